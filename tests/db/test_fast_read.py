"""The lean primary-key read returns exactly what the ORM returns, on every backend."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import anyio
from sqlalchemy.engine import make_url

from apps.app_b.models import Product
from apps.app_b.repositories import ProductRepository
from kami.db.config import build_sqlalchemy_config
from kami.db.fast_read import dispose_read_engines
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.backends import reset_schema
from tests.support.databases import settings_for
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
            row = await ProductRepository.read_row(config.get_engine(), product.id)
            assert row is not None
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
            assert await ProductRepository.read_row(config.get_engine(), uuid4()) is None
    finally:
        await dispose_read_engines()
        await config.get_engine().dispose()


def test_fast_read_survives_a_dropped_connection(tmp_path: Path) -> None:
    real = make_url(service_url("mysql"))
    reset_schema(settings_for(real.render_as_string(hide_password=False), tmp_path))
    parts = urlsplit(real.render_as_string(hide_password=False))
    with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 3306) as proxy:
        proxied = real.set(port=proxy.port).render_as_string(hide_password=False)
        anyio.run(_read_across_a_cut, settings_for(proxied, tmp_path), proxy)


async def _read_across_a_cut(settings: Settings, proxy: TcpProxy) -> None:
    config = build_sqlalchemy_config(settings)
    try:
        async with config.get_session() as session:
            product = Product(name="survivor", price=Decimal("1.00"), stock=1)
            session.add(product)
            await session.commit()
        engine = config.get_engine()
        assert await ProductRepository.read_row(engine, product.id) is not None  # pooled connection now
        proxy.cut()
        proxy.restore()  # the pooled connection is dead; the read must discard it and retry once
        row = await ProductRepository.read_row(engine, product.id)
        assert row is not None
        assert row["name"] == "survivor"
    finally:
        await dispose_read_engines()
        await config.get_engine().dispose()
