"""The shipped pool on the real servers: no connection churn at steady load, and no round trip per
request to test a connection, yet a connection cut while it sat idle is never handed to a request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from kami.db.config import build_sqlalchemy_config, normalise_url
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.databases import settings_for

SERVERS = ["mysql", "postgres"]
BACKEND_PID = {"mysql": "SELECT CONNECTION_ID()", "postgres": "SELECT pg_backend_pid()"}
KILL = {"mysql": "KILL {pid}", "postgres": "SELECT pg_terminate_backend({pid})"}


def _settings(server: str, folder: Path, **extra: str) -> Settings:
    return settings_for(service_url(server), folder, KAMI_DATABASE_POOL_SIZE="3", **extra)


def _count_pings(engine: AsyncEngine) -> list[int]:
    """A spy on the dialect's ping (the pool's test of a connection): it still pings, and counts."""
    dialect = engine.sync_engine.dialect
    ping = dialect.do_ping
    calls = [0]

    def counted(dbapi_connection: Any) -> bool:
        calls[0] += 1
        return ping(dbapi_connection)

    dialect.do_ping = counted  # type: ignore[method-assign]
    return calls


async def _backends_seen(settings: Settings, server: str, bursts: int, clients: int) -> tuple[set[int], int]:
    """Run ``bursts`` bursts of ``clients`` concurrent sessions; the server-side ids of the connections
    they ran on, and how many times the pool tested a connection."""
    config = build_sqlalchemy_config(settings)
    pings = _count_pings(config.get_engine())
    seen: set[int] = set()

    async def one() -> None:
        async with config.get_session() as session:
            seen.add(int((await session.execute(text(BACKEND_PID[server]))).scalar_one()))
            await anyio.sleep(0.01)  # hold it, so the burst needs more connections than the pool has

    try:
        for _ in range(bursts):
            async with anyio.create_task_group() as group:
                for _ in range(clients):
                    group.start_soon(one)
    finally:
        await config.get_engine().dispose()
    return seen, pings[0]


@pytest.mark.parametrize("server", SERVERS)
def test_load_beyond_the_pool_reuses_the_kept_connections(server: str, tmp_path: Path) -> None:
    """64 clients over a pool of 3, twenty times: three server connections, opened once, never pinged.

    With the former default (overflow 20 and a ping on every checkout) the same load opened and closed
    overflow connections on every burst and pinged on every request."""
    seen, pings = anyio.run(_backends_seen, _settings(server, tmp_path), server, 20, 64)
    assert len(seen) == 3, f"{len(seen)} server connections for a pool of 3"
    assert pings == 0

    churning = _settings(server, tmp_path, KAMI_DATABASE_MAX_OVERFLOW="20", KAMI_DATABASE_PRE_PING_AFTER="0")
    seen, pings = anyio.run(_backends_seen, churning, server, 5, 64)
    assert len(seen) > 3 * 5, "overflow connections were kept: this test no longer shows the churn"
    assert pings >= 5 * 64 - len(seen)  # every checkout but a freshly opened connection's first


async def _cut_while_idle(settings: Settings, server: str) -> tuple[int, int, int]:
    config = build_sqlalchemy_config(settings)
    admin = create_async_engine(normalise_url(settings.database_url), poolclass=NullPool)
    pings = _count_pings(config.get_engine())
    try:
        async with config.get_session() as session:
            before = int((await session.execute(text(BACKEND_PID[server]))).scalar_one())
        async with admin.connect() as connection:
            await connection.execute(text(KILL[server].format(pid=before)))
        await anyio.sleep(settings.database.pre_ping_after + 0.2)
        async with config.get_session() as session:  # must not fail: the cut connection is replaced
            after = int((await session.execute(text(BACKEND_PID[server]))).scalar_one())
        return before, after, pings[0]
    finally:
        await config.get_engine().dispose()
        await admin.dispose()


@pytest.mark.parametrize("server", SERVERS)
def test_a_connection_cut_while_idle_is_replaced_before_use(server: str, tmp_path: Path) -> None:
    settings = _settings(server, tmp_path, KAMI_DATABASE_PRE_PING_AFTER="0.3")
    before, after, pings = anyio.run(_cut_while_idle, settings, server)
    assert after != before
    assert pings == 1
