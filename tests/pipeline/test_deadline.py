"""Request deadlines and the database's own statement limit, on every backend: past the deadline the
client gets 504 / 5007, the work is cancelled (its transaction rolled back, its connection not given
back mid-reply), and the next requests on the same pool are served as if nothing happened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from litestar import get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.testing import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from apps.app_b.models import Product
from kami import ApiResponse, AppSpec, success
from kami.data import transaction
from kami.db.engines import statement_limit
from kami.db.precompiled import read_engine_for
from kami.pipeline.app import create_app
from kami.pipeline.runtime import runtime_of
from kami.routes import RouteDeclarationError, route_options
from kami.settings import Settings
from tests.support.backends import BACKENDS, reset_schema
from tests.support.databases import backend_url, settings_for

cleaned_up: list[str] = []


async def tracked() -> AsyncIterator[str]:
    try:
        yield "resource"
    finally:
        await asyncio.sleep(0)  # cleanup that awaits still runs to the end after the cancellation
        cleaned_up.append("resource")


@get("/sleep/{seconds:float}", opt=route_options(deadline=0.3), dependencies={"res": Provide(tracked)})
async def nap(seconds: FromPath[float], res: NamedDependency[str]) -> ApiResponse[str]:
    await asyncio.sleep(seconds)
    return success(res)


@get("/default/{seconds:float}")
async def default_deadline(seconds: FromPath[float]) -> ApiResponse[str]:
    await asyncio.sleep(seconds)
    return success("done")


def _sleep_sql(session: AsyncSession, seconds: float) -> Any:
    dialect = session.get_bind().dialect.name
    return text(
        f"SELECT SLEEP({seconds})" if dialect in ("mysql", "mariadb") else f"SELECT pg_sleep({seconds})"
    )


@post("/write-then-stall", opt=route_options(deadline=0.5), status_code=201)
async def write_then_stall(db_session: NamedDependency[AsyncSession]) -> ApiResponse[str]:
    async with transaction(db_session):
        db_session.add(Product(name="never stored", price=Decimal("1.00"), stock=1))
        await db_session.flush()
        await db_session.execute(_sleep_sql(db_session, 3))
    return success("stored")


@get("/stall-in-database", opt=route_options(deadline=10))
async def stall_in_database(db_session: NamedDependency[AsyncSession]) -> ApiResponse[str]:
    await db_session.execute(_sleep_sql(db_session, 3))
    return success("answered")


@get("/count")
async def count(db_session: NamedDependency[AsyncSession]) -> ApiResponse[int]:
    return success(int((await db_session.execute(select(func.count()).select_from(Product))).scalar_one()))


def spec(*handlers: Any) -> AppSpec:
    return AppSpec(name="slow", prefix="/slow", code_range=range(96000, 96100), route_handlers=list(handlers))


def _timed(client: TestClient, method: str, path: str) -> tuple[Any, float]:  # type: ignore[type-arg]
    started = time.monotonic()
    response = client.request(method, path)
    return response, time.monotonic() - started


def test_a_route_past_its_deadline_is_cut_and_cleaned_up(make_settings: Any) -> None:
    cleaned_up.clear()
    settings: Settings = make_settings(KAMI_SERVER_REQUEST_TIMEOUT="0.6")
    with TestClient(create_app(settings, [spec(nap, default_deadline)])) as client:
        response, took = _timed(client, "GET", "/slow/sleep/5")
        assert (response.status_code, response.json()["code"]) == (504, 5007)
        assert "deadline" in response.json()["message"]
        assert took < 2
        assert cleaned_up == ["resource"]
        assert client.get("/slow/sleep/0.01").json()["data"] == "resource"  # within its own deadline
        # Without a deadline of its own, a route has KAMI_SERVER_REQUEST_TIMEOUT's.
        assert client.get("/slow/default/0.2").status_code == 200
        assert client.get("/slow/default/3").status_code == 504
        assert client.get("/health/live").status_code == 200  # kami's own routes have none


@pytest.mark.parametrize("deadline", [0, -1, "5", True])
def test_a_deadline_that_is_not_a_positive_number_stops_start_up(deadline: Any, make_settings: Any) -> None:
    @get("/odd", opt=route_options(deadline=deadline))
    async def odd() -> ApiResponse[str]:
        return success("x")

    with pytest.raises(RouteDeclarationError, match="deadline must be a positive number"):
        create_app(make_settings(), [spec(odd)])


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "sqlite"])
def test_past_the_deadline_the_transaction_rolls_back_and_the_pool_recovers(
    backend: str, tmp_path: Path
) -> None:
    settings = settings_for(backend_url(backend, tmp_path), tmp_path, KAMI_DATABASE_POOL_SIZE="2")
    reset_schema(settings)
    app = create_app(settings, [spec(write_then_stall, count)])
    with TestClient(app) as client:
        for _ in range(3):  # more cut requests than the pool has connections
            response, took = _timed(client, "POST", "/slow/write-then-stall")
            assert (response.status_code, response.json()["code"]) == (504, 5007), response.text
            assert took < 2.5
        answers = [client.get("/slow/count") for _ in range(10)]
        # Every later request is served on the same pool; nothing of the cut transactions was stored.
        assert [(a.status_code, a.json()["data"]) for a in answers] == [(200, 0)] * 10


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "sqlite"])
def test_the_database_stops_a_statement_at_the_statement_timeout(backend: str, tmp_path: Path) -> None:
    settings = settings_for(backend_url(backend, tmp_path), tmp_path, KAMI_DATABASE_STATEMENT_TIMEOUT="0.5")
    reset_schema(settings)
    app = create_app(settings, [spec(stall_in_database, count)])
    with TestClient(app) as client:
        response, took = _timed(client, "GET", "/slow/stall-in-database")
        assert (response.status_code, response.json()["code"]) == (504, 5007), response.text
        assert took < 2.5  # the server stopped it, long before the route's 10 s deadline
        assert client.get("/slow/count").json()["data"] == 0

        async def limits() -> tuple[str, str]:
            """The limit as each pool's connections see it: the ORM's and the lean reads' beside it."""
            primary = runtime_of(app).engine
            seen = []
            for engine in (primary, read_engine_for(primary.sync_engine)):
                async with engine.connect() as connection:
                    show = "SELECT @@max_statement_time" if backend == "mysql" else "SHOW statement_timeout"
                    seen.append(str((await connection.execute(text(show))).scalar_one()))
            return seen[0], seen[1]

        ours, beside = client.blocking_portal.call(limits)
    expected = {"mysql": "0.5", "postgres": "500ms"}[backend]
    assert ours == beside == expected


def test_sqlite_has_no_server_to_limit(sqlite_settings: Settings) -> None:
    from sqlalchemy.dialects import sqlite

    assert statement_limit(sqlite.dialect(), 0.5) is None
