"""Request fields a person can read and a client can check: patterns said in words, decimals on the wire.

**Patterns.** A regular expression is the right promise for a client (the document publishes it) and
the wrong message for a person: msgspec reports a mismatch by quoting the expression. A field's pattern
is declared with :func:`pattern` — ``msgspec.Meta(pattern=pattern(r"^[a-z]+$", means="lowercase
letters"))`` — and a mismatch is answered "expected lowercase letters"
(:mod:`kami.pipeline.validation`). A pattern declared with two different meanings is refused at
import, where its author sees it.

**Decimals** are JSON strings of ASCII digits, exactly what their pattern promises. msgspec reads a
JSON string into ``Decimal`` with Python's ``Decimal()``, which also takes ``"1_000"``, ``" 5"``,
``"+5"``, ``"1e3"`` and digits of any script (``"١٢"``): more than a document can promise, and
surprising in a price. A field annotated ``Annotated[str, decimal_meta(...)]`` is a string checked
against one pattern — by msgspec here and by every client reading the document — that also carries
the range and the precision (a query parameter takes :func:`decimal_pattern` in its ``Parameter``);
services turn it into a ``Decimal`` with :func:`to_decimal`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import overload

import msgspec

__all__ = ["decimal_meta", "decimal_pattern", "meaning_of", "pattern", "to_decimal"]

_MEANINGS: dict[str, str] = {}


def pattern(regex: str, *, means: str) -> str:
    """``regex``, remembered with what it ``means`` (“an email address like ada@example.com”)."""
    known = _MEANINGS.setdefault(regex, means)
    if known != means:
        raise ValueError(f"the pattern {regex!r} already means {known!r}, not {means!r}")
    return regex


def meaning_of(regex: str) -> str | None:
    """What a declared pattern means, in words; None for a pattern declared without :func:`pattern`."""
    return _MEANINGS.get(regex)


def decimal_pattern(*, places: int = 2, digits: int = 10, positive: bool = True) -> str:
    """Plain notation, at most ``digits`` before the point and ``places`` after; with ``positive``,
    above zero (no lookahead: generators of test data do not all support one)."""
    fraction = rf"(?:\.[0-9]{{1,{places}}})?"
    whole = rf"[1-9][0-9]{{0,{digits - 1}}}{fraction}"
    shape = f"written as a string, with at most {digits} digits before the point and {places} after"
    if not positive:
        return pattern(rf"^(?:0{fraction}|{whole})$", means=f'a number of 0 or more {shape} (like "12.50")')
    below_one = "|".join(
        rf"0\.{'0' * zeros}[1-9]" + (rf"[0-9]{{0,{places - zeros - 1}}}" if places - zeros > 1 else "")
        for zeros in range(places)
    )
    return pattern(rf"^(?:{whole}|{below_one})$", means=f'a number above 0 {shape} (like "12.50")')


def decimal_meta(
    *, description: str, example: str, places: int = 2, digits: int = 10, positive: bool = True
) -> msgspec.Meta:
    """The constraint of a decimal request field: ``Annotated[str, decimal_meta(...)]``."""
    regex = decimal_pattern(places=places, digits=digits, positive=positive)
    return msgspec.Meta(pattern=regex, description=description, examples=[example])


@overload
def to_decimal(text: str) -> Decimal: ...
@overload
def to_decimal(text: None) -> None: ...
def to_decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
