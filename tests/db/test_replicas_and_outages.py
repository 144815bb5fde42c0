"""Read replicas (a second real database stands in as replica) and a database that goes away."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import pytest
from litestar import post
from litestar.di import NamedDependency
from litestar.testing import TestClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from apps.app_b.models import Product
from apps.app_b.services import ProductService
from kami import ApiResponse, AppSpec, success
from kami.data import transaction
from kami.db.config import build_sqlalchemy_config
from kami.pipeline.app import create_app
from tests.conftest import service_url
from tests.support.backends import reset_schema
from tests.support.databases import settings_for
from tests.support.proxy import TcpProxy
from tests.support.waiting import wait_until


async def _insert(url: str, folder: Path, name: str) -> None:
    settings = settings_for(url, folder)
    config = build_sqlalchemy_config(settings)
    async with config.get_session() as session:
        session.add(Product(name=name, price=Decimal("1.00"), stock=1))
        await session.commit()
    await config.get_engine().dispose()


@pytest.mark.parametrize("backend", ["mysql", "postgres"])
def test_reads_go_to_the_replica_and_transactions_to_the_primary(backend: str, tmp_path: Path) -> None:
    primary_url, replica_url = service_url(backend), service_url(f"{backend}_replica")
    for url in (primary_url, replica_url):
        reset_schema(settings_for(url, tmp_path))
    anyio.run(_insert, primary_url, tmp_path, "on the primary")
    anyio.run(_insert, replica_url, tmp_path, "on the replica")
    anyio.run(_check_routing, primary_url, replica_url, tmp_path)


async def _check_routing(primary_url: str, replica_url: str, tmp_path: Path) -> None:
    settings = settings_for(primary_url, tmp_path, KAMI_DATABASE_REPLICA_URLS=replica_url)
    config = build_sqlalchemy_config(settings)
    try:
        async with config.get_session() as session:
            service = ProductService(session=session)
            assert [p.name for p in await service.get_many()] == ["on the replica"]
        async with config.get_session() as session:
            service = ProductService(session=session)
            async with service.transaction():
                assert [p.name for p in await service.get_many()] == ["on the primary"]
    finally:
        await config.get_engine().dispose()


def test_without_replicas_reads_use_the_primary(tmp_path: Path) -> None:
    settings = settings_for("sqlite+aiosqlite:///" + str(tmp_path / "k.db"), tmp_path)
    config = build_sqlalchemy_config(settings)
    assert config.session_maker is None  # the plugin's plain session maker, bound to the primary only


def test_database_outage_answers_503_and_recovers_without_restart(tmp_path: Path) -> None:
    real = make_url(service_url("mysql"))
    reset_schema(settings_for(real.render_as_string(hide_password=False), tmp_path))
    parts = urlsplit(real.render_as_string(hide_password=False))
    with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 3306) as proxy:
        proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        settings = settings_for(
            proxied, tmp_path, KAMI_DATABASE_CONNECT_TIMEOUT="2", KAMI_DATABASE_POOL_TIMEOUT="2"
        )
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            assert client.get("/app-b/v1/products").status_code == 200

            proxy.cut()
            started = time.monotonic()
            down = client.get("/app-b/v1/products", params={"name": "not cached yet"})
            assert (down.status_code, down.json()["code"]) == (503, 5001)
            assert time.monotonic() - started < 10
            assert client.get("/health/ready").status_code == 503
            assert client.get("/health/live").status_code == 200

            proxy.restore()
            assert wait_until(
                lambda: client.get("/app-b/v1/products", params={"name": "x"}).status_code == 200
            )
            assert client.get("/health/ready").status_code == 200


def test_a_failed_commit_is_an_error_not_a_2xx(tmp_path: Path) -> None:
    """The connection dies between the last statement and COMMIT: 503, and nothing was stored."""
    real = make_url(service_url("mysql"))
    reset_schema(settings_for(real.render_as_string(hide_password=False), tmp_path))
    parts = urlsplit(real.render_as_string(hide_password=False))
    with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 3306) as proxy:

        @post("/write", summary="w", description="w")
        async def write(db_session: NamedDependency[AsyncSession]) -> ApiResponse[None]:
            async with transaction(db_session):
                db_session.add(Product(name="never committed", price=Decimal("1.00"), stock=1))
                await db_session.flush()
                proxy.cut()  # the COMMIT that follows cannot reach the database
            return success(None)

        spec = AppSpec(
            name="commit", prefix="/commit", code_range=range(96000, 96100), route_handlers=[write]
        )
        proxied = real.set(port=proxy.port).render_as_string(hide_password=False)
        with TestClient(
            create_app(settings_for(proxied, tmp_path), [spec]), raise_server_exceptions=False
        ) as client:
            response = client.post("/commit/write")
            assert (response.status_code, response.json()["code"]) == (503, 5001)
            proxy.restore()
    anyio.run(_assert_absent, real.render_as_string(hide_password=False), tmp_path, "never committed")


async def _assert_absent(url: str, folder: Path, name: str) -> None:
    from sqlalchemy import select

    config = build_sqlalchemy_config(settings_for(url, folder))
    async with config.get_session() as session:
        assert (await session.execute(select(Product).where(Product.name == name))).first() is None
    await config.get_engine().dispose()


@pytest.mark.parametrize("backend", ["mysql", "postgres"])
def test_statements_on_a_replica_are_timed_like_the_primarys(backend: str, tmp_path: Path) -> None:
    from prometheus_client import REGISTRY

    primary_url, replica_url = service_url(backend), service_url(f"{backend}_replica")
    for url in (primary_url, replica_url):
        reset_schema(settings_for(url, tmp_path))
    settings = settings_for(primary_url, tmp_path, KAMI_DATABASE_REPLICA_URLS=replica_url)

    def selects() -> float:
        return REGISTRY.get_sample_value("kami_db_query_duration_seconds_count", {"kind": "select"}) or 0.0

    with TestClient(create_app(settings)) as client:
        before = selects()
        for size in range(1, 6):  # five different pages: no cached answer, a query on the replica each
            assert client.get("/app-b/v1/products", params={"page_size": size}).status_code == 200
        assert selects() - before >= 5
