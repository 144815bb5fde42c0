"""App A's tables: accounts and their orders."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from advanced_alchemy.types import GUID
from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, Numeric, String, false
from sqlalchemy.orm import Mapped, mapped_column

from kami.data import Model

__all__ = ["ACTIVE", "DELETED", "DISABLED", "Order", "OrderLine", "Role", "User"]

ACTIVE, DISABLED, DELETED = "active", "disabled", "deleted"  # User.status


class User(Model):
    __tablename__ = "app_a_user"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_non_negative"),)

    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    username: Mapped[str] = mapped_column(String(50), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="user", server_default="user")
    tier: Mapped[str] = mapped_column(String(20), default="free", server_default="free")
    balance: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0), server_default="0")
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE, server_default=ACTIVE)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Role(Model):
    """A role an admin defined: a named set of declared permissions (``user`` and ``admin`` are built
    in, never stored)."""

    __tablename__ = "app_a_role"

    name: Mapped[str] = mapped_column(String(50), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)


class Order(Model):
    __tablename__ = "app_a_order"

    user_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("app_a_user.id", ondelete="CASCADE"), index=True)
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
