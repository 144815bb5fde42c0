"""Decimals on the wire: JSON strings of ASCII digits, exactly what the OpenAPI pattern promises.

msgspec reads a JSON string into ``Decimal`` with Python's ``Decimal()``, which also takes ``"1_000"``,
``" 5"``, ``"+5"``, ``"1e3"`` and digits of any script (``"١٢"``): more than a document can promise,
and surprising in a price. A field annotated ``Annotated[str, decimal_meta(...)]`` is a string checked
against one pattern — by msgspec here and by every client reading the document — that also carries
the range and the precision (a query parameter takes :func:`decimal_pattern` in its ``Parameter``);
services turn it into a ``Decimal`` with :func:`to_decimal`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import overload

import msgspec

__all__ = ["decimal_meta", "decimal_pattern", "to_decimal"]


def decimal_pattern(*, places: int = 2, digits: int = 10, positive: bool = True) -> str:
    """Plain notation, at most ``digits`` before the point and ``places`` after; with ``positive``,
    above zero (no lookahead: generators of test data do not all support one)."""
    fraction = rf"(?:\.[0-9]{{1,{places}}})?"
    whole = rf"[1-9][0-9]{{0,{digits - 1}}}{fraction}"
    if not positive:
        return rf"^(?:0{fraction}|{whole})$"
    below_one = "|".join(
        rf"0\.{'0' * zeros}[1-9]" + (rf"[0-9]{{0,{places - zeros - 1}}}" if places - zeros > 1 else "")
        for zeros in range(places)
    )
    return rf"^(?:{whole}|{below_one})$"


def decimal_meta(
    *, description: str, example: str, places: int = 2, digits: int = 10, positive: bool = True
) -> msgspec.Meta:
    """The constraint of a decimal request field: ``Annotated[str, decimal_meta(...)]``."""
    pattern = decimal_pattern(places=places, digits=digits, positive=positive)
    return msgspec.Meta(pattern=pattern, description=description, examples=[example])


@overload
def to_decimal(text: str) -> Decimal: ...
@overload
def to_decimal(text: None) -> None: ...
def to_decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
