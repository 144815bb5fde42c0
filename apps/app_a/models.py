"""App A's tables: wallets and orders. Both name an account of the platform's identity slice by its
id; App B's products are named by id only (no foreign key across apps)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from advanced_alchemy.types import GUID
from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from kami.data import ACCOUNT_ID, Model

__all__ = ["Order", "OrderLine", "Wallet"]


class Wallet(Model):
    """What an account may spend on orders (made by its first credit)."""

    __tablename__ = "app_a_wallet"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_non_negative"),)

    account_id: Mapped[UUID] = mapped_column(GUID, ForeignKey(ACCOUNT_ID), unique=True)
    balance: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0), server_default="0")


class Order(Model):
    __tablename__ = "app_a_order"

    user_id: Mapped[UUID] = mapped_column(GUID, ForeignKey(ACCOUNT_ID, ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="placed")
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class OrderLine(Model):
    """One product line. ``product_id`` refers to App B's catalogue, which A reaches only through B's
    service (no foreign key across apps)."""

    __tablename__ = "app_a_order_line"

    order_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("app_a_order.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[UUID] = mapped_column(GUID)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
