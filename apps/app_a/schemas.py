"""App A's request and response bodies. Money is a decimal, sent and received as a JSON string."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec

from kami import decimal_meta

__all__ = ["Credit", "OrderIn", "OrderLineIn", "OrderLineOut", "OrderOut", "WalletOut"]

Money = Annotated[
    str, decimal_meta(description="Decimal string above 0, below 10^10, at most 2 places.", example="25.00")
]


class Credit(msgspec.Struct, forbid_unknown_fields=True):
    amount: Money


class WalletOut(msgspec.Struct):
    account_id: UUID
    balance: Decimal


class OrderLineIn(msgspec.Struct, forbid_unknown_fields=True):
    product_id: UUID
    quantity: Annotated[int, msgspec.Meta(ge=1, le=1000, examples=[2])]


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    items: Annotated[
        list[OrderLineIn],
        msgspec.Meta(
            min_length=1,
            max_length=50,
            description="A product listed more than once is one line, its quantities added up.",
        ),
    ]


class OrderLineOut(msgspec.Struct):
    product_id: UUID
    quantity: int
    unit_price: Decimal


class OrderOut(msgspec.Struct):
    id: UUID
    status: str
    total: Decimal
    items: list[OrderLineOut]
    created_at: datetime
