"""Migrators queue behind one database lock, so replicas started with ``--migrate`` never collide."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import anyio
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from kami.db.config import normalise_url
from kami.db.migration_lock import migration_lock
from kami.db.migrations import current_revision, head_revision, upgrade
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.backends import drop_everything
from tests.support.databases import settings_for
from tests.support.servers import kami_env


@pytest.fixture(params=["sqlite", "mysql", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":  # a fresh embedded database: the file does not exist yet
        return settings_for(f"sqlite+aiosqlite:///{tmp_path / 'kami.db'}", tmp_path)
    settings = settings_for(service_url(request.param), tmp_path)
    drop_everything(settings.database_url)
    return settings


async def _revision(url: str) -> str | None:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as connection:
            return await current_revision(connection)
    finally:
        await engine.dispose()


def test_a_migrator_waits_while_another_holds_the_lock(empty_database: Settings) -> None:
    settings = empty_database
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            upgrade(settings)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    async def scenario() -> None:
        engine = create_async_engine(normalise_url(settings.database_url))
        try:
            async with engine.connect() as holder, migration_lock(holder):
                waiting = threading.Thread(target=migrate)
                waiting.start()
                await anyio.sleep(1.5)
                assert waiting.is_alive(), "the migrator did not wait for the lock"
                if holder.dialect.name != "sqlite":  # SQLite's exclusive lock keeps readers out too
                    assert await _revision(settings.database_url) is None
            await anyio.to_thread.run_sync(waiting.join, 60)
        finally:
            await engine.dispose()

    anyio.run(scenario)
    assert errors == []
    assert anyio.run(_revision, settings.database_url) == head_revision()


def test_racing_migrator_processes_all_succeed(empty_database: Settings, tmp_path: Path) -> None:
    """Three ``kami migrate`` processes at once (Alembic is one per process): each exits 0 — on SQLite
    too, where they all start on a database file none of them has created yet."""
    env = kami_env(tmp_path, KAMI_DATABASE_URL=empty_database.database_url)
    racers = [
        subprocess.Popen(
            [sys.executable, "-m", "kami", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [racer.communicate(timeout=120)[0].decode(errors="replace") for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0, 0], outputs
    assert anyio.run(_revision, empty_database.database_url) == head_revision()
