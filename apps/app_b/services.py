"""App B's business rules: the catalogue, stock levels, and stock reservations for other apps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal
from uuid import UUID

import msgspec
from sqlalchemy import ColumnElement, update
from sqlalchemy.ext.asyncio import AsyncSession

from apps.app_b.errors import InsufficientStockError, UnknownProductError
from apps.app_b.models import Product
from apps.app_b.repositories import ProductRepository
from apps.app_b.schemas import (
    InventoryOut,
    InventoryUpdate,
    ProductCreate,
    ProductOut,
    ProductUpdate,
    StockLevel,
)
from kami import Codes, ConflictError, Page, to_decimal
from kami.cache import Cache, Store
from kami.data import PageParams, Service

__all__ = ["ProductQuery", "ProductService", "SortKey", "StockLine", "product_service"]

SortKey = Literal["name", "-name", "price", "-price", "created_at", "-created_at"]


@dataclass(frozen=True)
class ProductQuery:
    name: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    sort: SortKey = "-created_at"

    def filters(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.name:
            escaped = self.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            found.append(Product.name.ilike(f"%{escaped}%", escape="\\"))
        if self.min_price is not None:
            found.append(Product.price >= self.min_price)
        if self.max_price is not None:
            found.append(Product.price <= self.max_price)
        if self.in_stock is not None:
            found.append(Product.stock > 0 if self.in_stock else Product.stock == 0)
        return found


@dataclass(frozen=True)
class StockLine:
    product_id: UUID
    quantity: int


PRODUCT_TTL = 300.0
LIST_TTL = 60
LIST_TAG = "products"


class ProductService(Service[Product, ProductOut]):
    """A product is read through the cache, list pages are cached as HTTP responses (``LIST_TAG``), and
    every write invalidates both once it has committed — also when it ran inside another app's
    transaction (an order reserving stock): then after that transaction's commit."""

    repository_type = ProductRepository
    out_type = ProductOut
    repository: ProductRepository

    def __init__(self, session: AsyncSession, cache: Cache | None = None) -> None:
        super().__init__(session)
        self.cache = cache

    async def product(self, product_id: UUID) -> ProductOut:
        if self.cache is None:
            return await self.get_out(product_id)
        return await self.cache.get_or_compute(
            f"product:{product_id}", lambda: self.get_out(product_id), decode_as=ProductOut, ttl=PRODUCT_TTL
        )

    async def find(self, params: PageParams, query: ProductQuery) -> Page[ProductOut]:
        """A page of products (cached as an HTTP response by the route, under ``LIST_TAG``)."""
        field = query.sort.lstrip("-")
        return await self.page(
            params, *query.filters(), order_by=[(field, query.sort.startswith("-")), ("id", True)]
        )

    def _forget_after_commit(self, *product_ids: UUID) -> None:
        """Drop the cached copies once the current transaction has committed."""
        cache = self.cache
        if cache is not None:
            keys = [f"product:{pid}" for pid in product_ids]
            self.after_commit(lambda: cache.invalidate(*keys, tags=[LIST_TAG]))

    async def create_product(self, data: ProductCreate) -> ProductOut:
        async with self.transaction():
            product = await self.create(
                Product(**msgspec.structs.asdict(data) | {"price": to_decimal(data.price)})
            )
            self._forget_after_commit(product.id)
        return self.to_out(product)

    async def update_product(self, product_id: UUID, data: ProductUpdate) -> ProductOut:
        changes = msgspec.to_builtins(data)
        async with self.transaction():
            product = await self.get(product_id)
            for key in changes:
                value = getattr(data, key)
                setattr(product, key, to_decimal(value) if key == "price" else value)
            await self.repository.session.flush()
            self._forget_after_commit(product_id)
        return self.to_out(product)

    async def delete_product(self, product_id: UUID) -> None:
        async with self.transaction():
            await self.delete(product_id)
            self._forget_after_commit(product_id)

    async def inventory(self, product_id: UUID) -> InventoryOut:
        row = await self.get_row(product_id)  # always fresh: stock is never served from a cache
        return InventoryOut(product_id=row["id"], quantity=row["stock"], version=row["version"])

    async def set_inventory(self, product_id: UUID, data: InventoryUpdate) -> InventoryOut:
        """Set the stock level if ``data.version`` is still current (optimistic concurrency)."""
        async with self.transaction():
            result = await self.repository.session.execute(
                update(Product)
                .where(Product.id == product_id, Product.version == data.version)
                .values(stock=data.quantity, version=Product.version + 1)
                .execution_options(synchronize_session=False)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                current = await self.get(product_id)  # 404 when it does not exist at all
                raise ConflictError(
                    f"Stale version {data.version}; the current version is {current.version}",
                    code=Codes.STALE_VERSION,
                    data={"current_version": current.version},
                )
            self._forget_after_commit(product_id)
        return InventoryOut(product_id=product_id, quantity=data.quantity, version=data.version + 1)

    async def quote(self, lines: Sequence[StockLine]) -> dict[UUID, Decimal]:
        """Each line's product price, taking no lock; :class:`UnknownProductError` for an unknown one."""
        prices = await self.repository.prices([line.product_id for line in lines])
        for line in lines:
            if line.product_id not in prices:
                raise UnknownProductError(data={"product_id": str(line.product_id)})
        return prices

    async def reserve(self, lines: Sequence[StockLine]) -> None:
        """Take stock for every line, all or nothing: :class:`InsufficientStockError` or
        :class:`UnknownProductError` when one cannot be served. Inside a caller's transaction (an
        order) it joins it: every order locks the same few popular rows here and holds them until
        it commits, so callers reserve last."""
        async with self.transaction():
            for line in sorted(lines, key=lambda item: item.product_id):  # one lock order: no deadlocks
                if not await self.repository.take_stock(line.product_id, line.quantity):
                    product = await self.get_one_or_none(id=line.product_id)
                    if product is None:
                        raise UnknownProductError(data={"product_id": str(line.product_id)})
                    raise InsufficientStockError(
                        data={"product_id": str(line.product_id), "available": product.stock}
                    )
            self._forget_after_commit(*(line.product_id for line in lines))

    async def low_stock(self, threshold: int) -> list[StockLevel]:
        found = await self.get_many(
            Product.stock < threshold, order_by=[(Product.stock, False), (Product.name, False)]
        )
        return [StockLevel(product_id=p.id, name=p.name, stock=p.stock) for p in found]

    async def release(self, lines: Sequence[StockLine]) -> None:
        """Give stock back (e.g. a cancelled order); joins the caller's transaction."""
        async with self.transaction():
            for line in sorted(lines, key=lambda item: item.product_id):
                await self.repository.return_stock(line.product_id, line.quantity)
            self._forget_after_commit(*(line.product_id for line in lines))


def product_service(session: AsyncSession, store: Store) -> ProductService:
    """The ``products`` dependency App B exports (``AppSpec.exports``), for its routes and others'."""
    return ProductService(session=session, cache=Cache(store))
