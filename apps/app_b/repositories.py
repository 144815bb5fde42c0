"""App B's data access. Pricing and stock changes run inside other apps' order transactions, whose
row locks every other order waits for: they are single statements compiled once (``Precompiled``)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from sqlalchemy import bindparam, select, update

from apps.app_b.models import Product
from kami.data import Precompiled, Repository

__all__ = ["ProductRepository"]

_PRICES = Precompiled(
    select(Product.id, Product.price).where(Product.id.in_(bindparam("product_ids", expanding=True)))
)
_TAKE_STOCK = Precompiled(
    update(Product)
    .where(Product.id == bindparam("product_id"), Product.stock >= bindparam("quantity"))
    .values(stock=Product.stock - bindparam("quantity"), version=Product.version + 1)
)
_RETURN_STOCK = Precompiled(
    update(Product)
    .where(Product.id == bindparam("product_id"))
    .values(stock=Product.stock + bindparam("quantity"), version=Product.version + 1)
)


class ProductRepository(Repository[Product]):
    model_type = Product

    async def prices(self, product_ids: Sequence[UUID]) -> dict[UUID, Decimal]:
        """Each product's price, in one statement and without loading entities."""
        rows = await _PRICES.rows(self.session, {"product_ids": list(product_ids)})
        return {product_id: price for product_id, price in rows}

    async def take_stock(self, product_id: UUID, quantity: int) -> bool:
        """Atomically remove ``quantity`` units if that many are left; False when they are not."""
        return await _TAKE_STOCK.execute(self.session, {"product_id": product_id, "quantity": quantity}) > 0

    async def return_stock(self, product_id: UUID, quantity: int) -> None:
        await _RETURN_STOCK.execute(self.session, {"product_id": product_id, "quantity": quantity})
