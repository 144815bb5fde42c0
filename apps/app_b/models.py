"""App B's tables."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kami.data import Model, Versioned

__all__ = ["Product"]


class Product(Model, Versioned):
    """A catalogue entry and its stock; ``version`` guards stock and detail edits alike."""

    __tablename__ = "app_b_product"
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_non_negative"),)

    name: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    description: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    stock: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
