"""Validation failures said in words: what each field expected, never the machinery that checked it.

Litestar reports a request that does not fit its handler's signature as a ``ValidationException``
whose ``extra`` lists ``{"key", "message", "source"}``; the messages are msgspec's ("Expected `str`
matching regex '^…$'", "Invalid enum value 'foo'"). Here each becomes a sentence a person
understands: a pattern says what it means (:mod:`kami.fields`), an enum lists its allowed values
(read from the handler's declared types), a length or a bound says it in words. The field stays in
``data.errors`` for programs.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from kami.fields import meaning_of

__all__ = ["FieldProblem", "field_problems"]

_BODY = "data"  # the name Litestar gives a handler's body in its signature
_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "text",
    "bool": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
    "bytes": "base64 text",
}
_UNITS = {"str": "character", "array": "item", "object": "entry", "bytes": "byte"}
_EXPECTED_TYPE = re.compile(r"^Expected `([^`]+)`, got `([^`]+)`$")
_BOUND = re.compile(r"^Expected `(?:int|float)` (>=|<=|>|<) (\S+)$")
_MULTIPLE = re.compile(r"^Expected `(?:int|float)` that's a multiple of (\S+)$")
_LENGTH = re.compile(r"^Expected `(\w+)` of length (>=|<=) (\d+)$")
_REGEX = re.compile(r"^Expected `str` matching regex ('.*'|\".*\")$", re.S)  # the pattern's repr()
_ENUM = re.compile(r"^Invalid enum value (.+)$")
_FIELD = re.compile(r"^Object (missing required|contains unknown) field `([^`]+)`$")
_PATH_PART = re.compile(r"[^.\[\]]+")
_BOUND_WORDS = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}
_FIXED = {
    "Invalid UUID": "expected a UUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "Invalid RFC3339 encoded datetime": "expected a date and time like 2026-01-31T12:00:00Z (RFC 3339)",
    "Invalid RFC3339 encoded date": "expected a date like 2026-01-31",
    "Invalid decimal string": 'expected a decimal number written as a string, like "12.50"',
    "Invalid base64 encoded string": "expected base64 text",
}


@dataclass(frozen=True)
class FieldProblem:
    field: str  # ``email``, ``items[0].quantity``, a query parameter's name; empty: the body as a whole
    source: str  # body, query, path, header, cookie
    message: str  # in words
    missing: bool = False  # a required field (or the body) is absent

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "source": self.source, "message": self.message}


def field_problems(exc: ValidationException, request: Request[Any, Any, Any] | None) -> list[FieldProblem]:
    """Each problem ``exc`` lists, said in words (``request`` lets enums name their allowed values)."""
    listed = exc.extra if isinstance(exc.extra, list) else []
    return [_problem(entry, request) for entry in listed if isinstance(entry, Mapping)]


def _problem(entry: Mapping[str, Any], request: Request[Any, Any, Any] | None) -> FieldProblem:
    raw = str(entry.get("message", "")).strip()
    key = str(entry.get("key") or "")
    source = entry.get("source") or "body"
    source = str(getattr(source, "value", source))
    if source == "body" and key == _BODY:
        key = ""  # the body as a whole
    named = _FIELD.match(raw)
    if named:
        field = ".".join(part for part in (key, named.group(2)) if part)
        if named.group(1) == "missing required":
            return FieldProblem(field, source, "is required", missing=True)
        return FieldProblem(field, source, "is not a field of this request")
    if source == "body" and not key and raw == f"'{_BODY}'":
        # Litestar's word for an absent body: the KeyError of its signature field (litestar 2.x,
        # litestar/_signature/model.py ``_collect_errors``); tests/pipeline/test_validation_words.py.
        return FieldProblem("", source, "a JSON body is required", missing=True)
    values = _allowed_values(request, source, key) if request is not None else None
    return FieldProblem(key, source, _in_words(raw, source, values))


def _in_words(raw: str, source: str, allowed: list[Any] | None) -> str:
    if raw in _FIXED:
        return _FIXED[raw]
    if match := _REGEX.match(raw):
        meaning = meaning_of(ast.literal_eval(match.group(1)))
        return f"expected {meaning}" if meaning else "does not have the form the API document gives"
    if match := _ENUM.match(raw):
        if allowed:
            return f"{match.group(1)} is not allowed; expected one of: {', '.join(map(str, allowed))}"
        return f"{match.group(1)} is not one of the allowed values"
    if match := _LENGTH.match(raw):
        kind, bound, count = match.group(1), match.group(2), int(match.group(3))
        if bound == ">=" and count == 1:
            return "must not be empty"
        unit = _UNITS.get(kind, "item") + ("" if count == 1 else "s")
        return f"must have {_BOUND_WORDS[bound]} {count} {unit}"
    if match := _BOUND.match(raw):
        return f"must be {_BOUND_WORDS[match.group(1)]} {_number(match.group(2))}"
    if match := _MULTIPLE.match(raw):
        return f"must be a multiple of {_number(match.group(1))}"
    if match := _EXPECTED_TYPE.match(raw):
        if source != "body":  # query, path and header values all arrive as text: saying so would not help
            return f"expected {_type_words(match.group(1), null=False)}"
        return f"expected {_type_words(match.group(1))}, got {_type_words(match.group(2))}"
    return raw.replace("`", "")


def _type_words(spelled: str, *, null: bool = True) -> str:
    kinds = [kind.strip() for kind in spelled.split("|")]
    wanted = [kind for kind in kinds if kind != "null"] or kinds
    words = " or ".join(_TYPE_WORDS.get(kind, kind) for kind in wanted)
    return words + (" (or null)" if null and len(wanted) < len(kinds) else "")


def _number(text: str) -> str:
    return text.removesuffix(".0")


# --- allowed values, read from the handler's declared types ---------------------------------------


def _allowed_values(request: Request[Any, Any, Any], source: str, key: str) -> list[Any] | None:
    handler = request.scope.get("route_handler")
    model = getattr(handler, "signature_model", None)
    if model is None:
        return None
    path = [_BODY, *_PATH_PART.findall(key)] if source == "body" else [key]  # "items[0].kind"
    return _values_at(model, tuple(path))


@lru_cache(maxsize=256)
def _values_at(model: type, path: tuple[str, ...]) -> list[Any] | None:
    try:
        info: msgspec.inspect.Type = msgspec.inspect.type_info(model)
    except (TypeError, ValueError):  # a signature msgspec cannot describe: say it without the values
        return None
    for part in path:
        info = next(iter(_step(info, part)), msgspec.inspect.AnyType())
    return next(iter(_choices(info)), None)


def _step(info: msgspec.inspect.Type, part: str) -> Iterator[msgspec.inspect.Type]:
    for member in _members(info):
        if isinstance(member, msgspec.inspect.StructType | msgspec.inspect.DataclassType):
            yield from (f.type for f in member.fields if part in (f.name, f.encode_name))
        elif isinstance(member, msgspec.inspect.ListType | msgspec.inspect.SetType) and part.isdigit():
            yield member.item_type
        elif isinstance(member, msgspec.inspect.DictType):
            yield member.value_type


def _choices(info: msgspec.inspect.Type) -> Iterator[list[Any]]:
    for member in _members(info):
        if isinstance(member, msgspec.inspect.LiteralType):
            yield list(member.values)
        elif isinstance(member, msgspec.inspect.EnumType):
            yield [item.value for item in member.cls if isinstance(item, Enum)]


def _members(info: msgspec.inspect.Type) -> Iterator[msgspec.inspect.Type]:
    """``info`` itself, or each member of a union, without the constraints wrapped around them."""
    while isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    if isinstance(info, msgspec.inspect.UnionType):
        for member in info.types:
            yield from _members(member)
    else:
        yield info
