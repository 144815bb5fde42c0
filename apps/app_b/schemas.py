"""App B's request and response bodies. Money is a decimal, sent and received as a JSON string."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec

from kami import decimal_meta

__all__ = [
    "InventoryOut",
    "InventoryUpdate",
    "LowStockReport",
    "ProductCreate",
    "ProductOut",
    "ProductUpdate",
    "ReportQueued",
    "StockLevel",
]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, examples=["Espresso cup"])]
Price = Annotated[
    str, decimal_meta(description="Decimal string above 0, below 10^10, at most 2 places.", example="12.50")
]
Description = Annotated[str, msgspec.Meta(max_length=2000, examples=["Porcelain, 90 ml."])]
Quantity = Annotated[int, msgspec.Meta(ge=0, le=1_000_000_000, examples=[25])]


class ProductCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    price: Price
    description: Description | None = None
    stock: Quantity = 0


class ProductUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Only the fields sent are changed."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    price: Price | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType | None = msgspec.UNSET


class ProductOut(msgspec.Struct):
    id: UUID
    name: str
    price: Decimal
    description: str | None
    stock: int
    version: int
    created_at: datetime
    updated_at: datetime


class InventoryOut(msgspec.Struct):
    product_id: UUID
    quantity: int
    version: int


class InventoryUpdate(msgspec.Struct, forbid_unknown_fields=True):
    quantity: Quantity
    version: Annotated[
        int, msgspec.Meta(ge=1, le=2_147_483_647, description="The version you read; a stale one is refused.")
    ]


class StockLevel(msgspec.Struct):
    product_id: UUID
    name: str
    stock: int


class LowStockReport(msgspec.Struct):
    generated_at: datetime
    threshold: int
    products: list[StockLevel]


class ReportQueued(msgspec.Struct):
    job_key: str
