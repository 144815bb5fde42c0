"""The lean primary-key read returns exactly what the ORM returns, on every backend, and reads where the
session would: a replica outside a transaction, the transaction's own connection inside one."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from apps.app_b.models import Product
from apps.app_b.repositories import ProductRepository
from kami.data import transaction
from kami.db.config import build_sqlalchemy_config, normalise_url
from kami.db.precompiled import dispose_read_engines, read_engine_for
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.backends import reset_schema
from tests.support.databases import mysql_behind_a_proxy, settings_for
from tests.support.proxy import TcpProxy


async def test_fast_read_matches_the_orm(db_settings: Settings) -> None:
    config = build_sqlalchemy_config(db_settings)
    try:
        async with config.get_session() as session:
            product = Product(name="Fast ✓ 字", price=Decimal("1234567.89"), description=None, stock=7)
            session.add(product)
            await session.commit()
            orm = await session.get(Product, product.id)
            assert orm is not None
            await session.refresh(orm)  # compare with what the database stored
        async with config.get_session() as session:  # a session that has not begun: the lean pool
            row = await ProductRepository.read_row(session, product.id)
            assert row is not None
            assert not session.in_transaction()
            for column in (
                "id",
                "name",
                "price",
                "description",
                "stock",
                "version",
                "created_at",
                "updated_at",
            ):
                assert row[column] == getattr(orm, column), column
            assert isinstance(row["price"], Decimal)
            assert row["created_at"].tzinfo is not None
            assert await ProductRepository.read_row(session, uuid4()) is None
    finally:
        await dispose_read_engines()
        await config.get_engine().dispose()


def test_fast_read_survives_a_dropped_connection(tmp_path: Path) -> None:
    with mysql_behind_a_proxy(tmp_path) as (settings, proxy):
        anyio.run(_read_across_a_cut, settings, proxy)


async def _read_across_a_cut(settings: Settings, proxy: TcpProxy) -> None:
    config = build_sqlalchemy_config(settings)
    try:
        async with config.get_session() as session:
            product = Product(name="survivor", price=Decimal("1.00"), stock=1)
            session.add(product)
            await session.commit()
        async with config.get_session() as session:
            assert await ProductRepository.read_row(session, product.id) is not None  # pooled connection now
            proxy.cut()
            proxy.restore()  # the pooled connection is dead; the read must discard it and retry once
            row = await ProductRepository.read_row(session, product.id)
            assert row is not None
            assert row["name"] == "survivor"
    finally:
        await dispose_read_engines()
        await config.get_engine().dispose()


def test_fast_read_closes_overflow_connections_on_the_server(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A burst beyond the pool opens overflow connections; giving them back must really close them.

    Closing an async driver's connection outside SQLAlchemy's greenlet fails ("Exception closing
    connection ... MissingGreenlet") and leaves it open on the server: under load that leak ended in
    MySQL's "Too many connections" (found by bench/http_suite.py)."""
    settings = settings_for(
        service_url("mysql"), tmp_path, KAMI_DATABASE_POOL_SIZE="2", KAMI_DATABASE_MAX_OVERFLOW="6"
    )
    reset_schema(settings)
    caplog.set_level(logging.ERROR, logger="sqlalchemy.pool")
    opened, kept = anyio.run(_burst_of_reads, settings)
    assert opened > 2, "the burst never needed an overflow connection"
    assert kept <= 2, f"{kept} read connections still open on the server after the burst"
    assert not [r for r in caplog.records if "closing connection" in r.getMessage()]


async def _burst_of_reads(settings: Settings) -> tuple[int, int]:
    config = build_sqlalchemy_config(settings)
    counter = create_async_engine(normalise_url(settings.database_url), poolclass=NullPool)
    count = text("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE()")
    try:
        async with config.get_session() as session:
            product = Product(name="burst", price=Decimal("1.00"), stock=1)
            session.add(product)
            await session.commit()
        await config.get_engine().dispose()  # only the read pool's connections remain
        engine = config.get_engine()
        async with counter.connect() as connection:
            before = int((await connection.execute(count)).scalar_one())
        peak = 0

        async def read() -> None:
            nonlocal peak
            async with config.get_session() as session:
                assert await ProductRepository.read_row(session, product.id) is not None
            peak = max(peak, read_engine_for(engine.sync_engine).pool.checkedout())  # type: ignore[attr-defined]

        async with anyio.create_task_group() as group:
            for _ in range(24):
                group.start_soon(read)
        async with counter.connect() as connection:
            after = int((await connection.execute(count)).scalar_one())
        return peak, after - before
    finally:
        await dispose_read_engines()
        await config.get_engine().dispose()
        await counter.dispose()


async def test_lean_insert_stores_what_add_stores(db_settings: Settings) -> None:
    """``Repository.insert`` (no unit of work) fills the same defaults ``add`` does, stores the rows in
    the caller's transaction, and a rollback discards them."""
    config = build_sqlalchemy_config(db_settings)
    try:
        async with config.get_session() as session:
            repository = ProductRepository(session=session)
            kept = Product(name="Lean ✓", price=Decimal("12.50"), stock=3)
            other = Product(
                name="Lean 2", price=Decimal("0.01"), stock=0, description="two rows, one statement"
            )
            await repository.insert(kept, other)
            assert kept.id is not None
            assert kept.created_at is not None
            assert kept.version == 1
            await session.commit()
            stored = await repository.get(kept.id)
            await session.refresh(stored)
            for column in ("id", "name", "price", "description", "stock", "version", "created_at"):
                assert getattr(stored, column) == getattr(kept, column), column
            assert (await repository.get(other.id)).description == "two rows, one statement"

            discarded = Product(name="Lean rolled back", price=Decimal("1"), stock=1)
            await repository.insert(discarded)
            await session.rollback()
            assert await repository.get_one_or_none(id=discarded.id) is None
    finally:
        await config.get_engine().dispose()


async def test_a_lean_read_inside_a_transaction_sees_its_writes(db_settings: Settings) -> None:
    config = build_sqlalchemy_config(db_settings)
    try:
        async with config.get_session() as session:
            product = Product(name="Uncommitted", price=Decimal("2.00"), stock=4)
            async with transaction(session):
                session.add(product)
                await session.flush()
                row = await ProductRepository.read_row(session, product.id)  # not committed yet
                assert row is not None
                assert row["stock"] == 4
                prices = await ProductRepository(session=session).prices([product.id])
                assert prices == {product.id: Decimal("2.00")}
    finally:
        await dispose_read_engines()
        await config.get_engine().dispose()


@pytest.mark.parametrize("backend", ["mysql", "postgres"])
def test_lean_reads_follow_the_replica_routing(backend: str, tmp_path: Path) -> None:
    """Outside a transaction a lean read goes to the replica, inside one to the primary (where the
    transaction is), as the ORM's reads do."""
    primary_url, replica_url = service_url(backend), service_url(f"{backend}_replica")
    for url in (primary_url, replica_url):
        reset_schema(settings_for(url, tmp_path))
    anyio.run(_check_lean_routing, primary_url, replica_url, tmp_path)


async def _check_lean_routing(primary_url: str, replica_url: str, tmp_path: Path) -> None:
    from apps.app_b.services import ProductService

    same_id = uuid4()
    for url, name in ((primary_url, "primary"), (replica_url, "replica")):
        config = build_sqlalchemy_config(settings_for(url, tmp_path))
        async with config.get_session() as session:
            session.add(Product(id=same_id, name=f"on the {name}", price=Decimal("1.00"), stock=1))
            await session.commit()
        await config.get_engine().dispose()
    settings = settings_for(primary_url, tmp_path, KAMI_DATABASE_REPLICA_URLS=replica_url)
    config = build_sqlalchemy_config(settings)
    try:
        async with config.get_session() as session:
            service = ProductService(session=session)
            assert (await service.get_row(same_id))["name"] == "on the replica"
            async with service.transaction():
                assert (await service.get_row(same_id))["name"] == "on the primary"
    finally:
        await dispose_read_engines()
        await config.get_engine().dispose()
