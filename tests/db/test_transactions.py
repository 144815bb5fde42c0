"""The transaction rule, optimistic concurrency and per-app scoping, against the real databases."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from uuid import UUID

import pytest
from advanced_alchemy import exceptions as aa_exceptions
from advanced_alchemy.mixins import AuditColumns, UUIDv7PrimaryKey
from sqlalchemy import MetaData, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from apps.app_a.services import OrderService
from apps.app_b.errors import InsufficientStockError
from apps.app_b.models import Product
from apps.app_b.schemas import ProductCreate
from apps.app_b.services import ProductService, StockLine
from kami import BusinessError, Codes
from kami.data import AppScoped, Repository, TransactionAbortedError
from kami.db.config import build_sqlalchemy_config
from kami.pipeline.exception_handlers import to_envelope_response
from kami.settings import Settings


@asynccontextmanager
async def session_for(settings: Settings) -> AsyncIterator[AsyncSession]:
    config = build_sqlalchemy_config(settings)
    try:
        async with config.get_session() as session:
            yield session
    finally:
        await config.get_engine().dispose()


async def add_products(settings: Settings, *stocks: int) -> list[UUID]:
    async with session_for(settings) as session:
        products = [Product(name=f"P{i}", price=Decimal("2.50"), stock=s) for i, s in enumerate(stocks)]
        session.add_all(products)
        await session.commit()
        return sorted(p.id for p in products)


async def stocks(settings: Settings) -> dict[UUID, int]:
    async with session_for(settings) as session:
        return {p.id: p.stock for p in (await session.execute(select(Product))).scalars()}


async def test_business_failure_writes_nothing(db_settings: Settings) -> None:
    first, second = await add_products(db_settings, 10, 10)
    async with session_for(db_settings) as session:
        await session.execute(select(Product.id).where(Product.id == second))
        service = ProductService(session=session)
        before = await stocks(db_settings)
        with pytest.raises(BusinessError) as info:
            async with service.transaction():
                await service.reserve(
                    [StockLine(first, 4), StockLine(second, 11)]
                )  # first succeeds, then fails
        assert info.value.business_code.code == 20001
    assert await stocks(db_settings) == before


async def test_successful_reservation_commits_at_the_quoted_prices(db_settings: Settings) -> None:
    first, second = await add_products(db_settings, 3, 1)
    async with session_for(db_settings) as session:
        service = ProductService(session=session)
        async with service.transaction():
            prices = await service.quote([StockLine(first, 3), StockLine(second, 1)])
            await service.reserve([StockLine(first, 3), StockLine(second, 1)])
    assert prices == {first: Decimal("2.50"), second: Decimal("2.50")}
    assert await stocks(db_settings) == {first: 0, second: 0}


async def product_names(settings: Settings) -> set[str]:
    async with session_for(settings) as session:
        return set((await session.execute(select(Product.name))).scalars())


async def test_a_service_called_inside_another_commits_only_with_it(db_settings: Settings) -> None:
    """App A's service opens a transaction and calls App B's service, which opens its own: the inner
    one joins, so a failure after it leaves nothing of either stored."""
    (stocked,) = await add_products(db_settings, 5)
    async with session_for(db_settings) as session:
        products = ProductService(session)
        orders = OrderService(session, products)

        async def compose() -> None:
            async with orders.transaction():
                await products.create_product(ProductCreate(name="Inner", price="1.00"))
                await products.reserve([StockLine(stocked, 2)])
                raise BusinessError(code=Codes.BUSINESS_RULE)

        with pytest.raises(BusinessError):
            await compose()
    assert await product_names(db_settings) == {"P0"}
    assert await stocks(db_settings) == {stocked: 5}


async def test_an_inner_failure_the_outer_block_swallows_rolls_everything_back(db_settings: Settings) -> None:
    (stocked,) = await add_products(db_settings, 1)
    async with session_for(db_settings) as session:
        products = ProductService(session)

        async def swallow() -> None:
            async with products.transaction():
                await products.create_product(ProductCreate(name="Kept?", price="1.00"))
                with contextlib.suppress(InsufficientStockError):
                    await products.reserve([StockLine(stocked, 2)])

        with pytest.raises(TransactionAbortedError) as info:
            await swallow()
        assert isinstance(info.value.__cause__, InsufficientStockError)
    assert await product_names(db_settings) == {"P0"}
    assert await stocks(db_settings) == {stocked: 1}


async def test_after_commit_waits_for_the_outermost_commit(db_settings: Settings) -> None:
    ran: list[str] = []
    async with session_for(db_settings) as session:
        products = ProductService(session)

        async def note(what: str) -> None:
            ran.append(what)

        async with products.transaction():
            async with products.transaction():
                products.after_commit(lambda: note("inner"))
            assert ran == []  # the inner block ended, nothing is committed yet
            products.after_commit(lambda: note("outer"))
        assert ran == ["inner", "outer"]

        async def fail() -> None:
            async with products.transaction():
                products.after_commit(lambda: note("rolled back"))
                raise BusinessError(code=Codes.BUSINESS_RULE)

        with pytest.raises(BusinessError):
            await fail()
        assert ran == ["inner", "outer"]
        with pytest.raises(RuntimeError, match="open transaction"):
            products.after_commit(lambda: note("outside"))


async def test_stale_version_is_409_4007(db_settings: Settings) -> None:
    (product_id,) = await add_products(db_settings, 1)
    async with session_for(db_settings) as one, session_for(db_settings) as two:
        mine = await one.get(Product, product_id)
        theirs = await two.get(Product, product_id)
        assert mine is not None
        assert theirs is not None
        theirs.name = "changed by them"
        await two.commit()
        mine.name = "changed by me"
        with pytest.raises(StaleDataError) as info:
            await one.flush()
        response = to_envelope_response(info.value)
        assert response.status_code == 409
        assert response.content.code == 4007
    async with session_for(db_settings) as session:
        stored = await session.get(Product, product_id)
        assert stored is not None
        assert (stored.name, stored.version) == ("changed by them", 2)


class _ScopedBase(DeclarativeBase):
    metadata = MetaData()


class Note(UUIDv7PrimaryKey, AuditColumns, AppScoped, _ScopedBase):
    """A test-only app-scoped table, on its own metadata so the shipped migrations never see it."""

    __tablename__ = "test_scoped_note"
    body: Mapped[str] = mapped_column(String(100))


class NoteRepository(Repository[Note]):  # type: ignore[type-var]
    model_type = Note


async def test_app_scoped_repository_filters_and_stamps(db_settings: Settings) -> None:
    config = build_sqlalchemy_config(db_settings)
    engine = config.get_engine()
    async with engine.begin() as connection:
        await connection.run_sync(_ScopedBase.metadata.create_all)
    try:
        async with config.get_session() as session:
            a = NoteRepository(session=session, app_id="app-a")
            b = NoteRepository(session=session, app_id="app-b")
            mine = await a.add(Note(body="a's note"))
            await b.add(Note(body="b's note", app_id="app-a"))  # stamped as app-b whatever it says
            await session.commit()
            assert mine.app_id == "app-a"
            assert [n.body for n in await a.get_many()] == ["a's note"]
            assert [n.body for n in await b.get_many()] == ["b's note"]
            assert await b.count() == 1
            assert await b.get_one_or_none(id=mine.id) is None
            with pytest.raises(aa_exceptions.NotFoundError):
                await b.get(mine.id)
        with pytest.raises(ValueError, match="app-scoped"):
            NoteRepository(session=session)
    finally:
        async with engine.begin() as connection:
            await connection.run_sync(_ScopedBase.metadata.drop_all)
        await engine.dispose()
