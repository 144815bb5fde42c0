"""kami.overrides.openapi_document: what Litestar documents by itself, which kami rewrites."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec
from litestar import Litestar, get
from litestar.exceptions import NotFoundException

T = TypeVar("T")


class Wrapped(msgspec.Struct, Generic[T]):
    data: T


class Item(msgspec.Struct):
    name: str


@get("/item", raises=[NotFoundException])
async def item() -> Wrapped[Item]:
    return Wrapped(Item("x"))


def test_tripwire_litestar_documents_its_own_error_shape_and_long_generic_names() -> None:
    """If either assertion fails, Litestar changed what kami rewrites: check the rewriting still
    holds (tests/pipeline/test_openapi.py) and whether it is still needed."""
    document = Litestar([item]).openapi_schema.to_schema()
    error = document["paths"]["/item"]["get"]["responses"]["404"]["content"]["application/json"]["schema"]
    assert "status_code" in error["properties"]  # not the envelope
    names = list(document["components"]["schemas"])
    assert any("." in name for name in names), names  # module paths in generic component names
