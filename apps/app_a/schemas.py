"""App A's request and response bodies. Output structs never carry password hashes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec

__all__ = [
    "Credit",
    "LoginIn",
    "OrderIn",
    "OrderLineIn",
    "OrderLineOut",
    "OrderOut",
    "ProfileUpdate",
    "RefreshIn",
    "Registration",
    "Tokens",
    "UserOut",
]

# No "@", no whitespace, no control characters. Spelled out rather than ``\s``: Python's and
# JavaScript's ``\s`` disagree (U+0085), and clients check this pattern with the latter.
_EMAIL_CHAR = r"[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=320,
        pattern=rf"^{_EMAIL_CHAR}+@{_EMAIL_CHAR}+\.{_EMAIL_CHAR}+$",
        examples=["ada@example.com"],
    ),
]
Username = Annotated[
    str, msgspec.Meta(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$", examples=["ada"])
]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128, examples=["correct horse battery"])]
Money = Annotated[Decimal, msgspec.Meta(description="Decimal string, at most 2 places.", examples=["25.00"])]


def check_money(value: Decimal | msgspec.UnsetType, field: str) -> None:
    if isinstance(value, Decimal) and (
        not value.is_finite() or not 0 < value < 10**10 or value.as_tuple().exponent < -2  # type: ignore[operator]
    ):
        raise ValueError(f"{field} must be above 0, below 10000000000, with at most 2 decimal places")


class Registration(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    username: Username
    password: Password


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class RefreshIn(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]


class Tokens(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class UserOut(msgspec.Struct):
    id: UUID
    email: str
    username: str
    role: str
    tier: str
    balance: Decimal
    created_at: datetime


class ProfileUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    username: Username | msgspec.UnsetType = msgspec.UNSET
    password: Password | msgspec.UnsetType = msgspec.UNSET


class Credit(msgspec.Struct, forbid_unknown_fields=True):
    amount: Money

    def __post_init__(self) -> None:
        check_money(self.amount, "amount")


class OrderLineIn(msgspec.Struct, forbid_unknown_fields=True):
    product_id: UUID
    quantity: Annotated[int, msgspec.Meta(ge=1, le=1000, examples=[2])]


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    items: Annotated[list[OrderLineIn], msgspec.Meta(min_length=1, max_length=50)]

    def __post_init__(self) -> None:
        if len({line.product_id for line in self.items}) != len(self.items):
            raise ValueError("each product may appear once in items")


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
