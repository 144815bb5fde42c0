"""App B's data access."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import update

from apps.app_b.models import Product
from kami.data import Repository

__all__ = ["ProductRepository"]


class ProductRepository(Repository[Product]):
    model_type = Product

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
