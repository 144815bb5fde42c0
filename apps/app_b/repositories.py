"""App B's data access."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from sqlalchemy import select, update

from apps.app_b.models import Product
from kami.data import Repository

__all__ = ["ProductRepository"]


class ProductRepository(Repository[Product]):
    model_type = Product

    async def prices(self, product_ids: Sequence[UUID]) -> dict[UUID, Decimal]:
        """Each product's price, in one statement and without loading entities (inside a transaction
        whose row locks others wait for, every statement's cost is paid by them too)."""
        rows = await self.session.execute(
            select(Product.id, Product.price).where(Product.id.in_(product_ids))
        )
        return {product_id: price for product_id, price in rows}

    async def take_stock(self, product_id: UUID, quantity: int) -> bool:
        """Atomically remove ``quantity`` units if that many are left; False when they are not."""
        result = await self.session.execute(
            update(Product)
            .where(Product.id == product_id, Product.stock >= quantity)
            .values(stock=Product.stock - quantity, version=Product.version + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def return_stock(self, product_id: UUID, quantity: int) -> None:
        await self.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantity, version=Product.version + 1)
            .execution_options(synchronize_session=False)
        )
