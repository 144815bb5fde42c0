"""One migrator at a time: a database-wide lock held while Alembic runs.

Several replicas started with ``serve --migrate`` (or a migration job racing an init container, or
two ``kami`` processes on one embedded database) would otherwise apply the same revision twice and
fail on "table exists". The lock is the database's own, so a crashed migrator releases it with its
connection: MySQL/MariaDB ``GET_LOCK`` and PostgreSQL's advisory lock are held beside the migration's
transactions; SQLite has no such lock, so there the migration runs inside one ``BEGIN EXCLUSIVE``
transaction (SQLite's DDL is transactional), which is the lock.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["MigrationLockTimeoutError", "migration_lock"]

LOCK_NAME = "kami_migrations"
LOCK_KEY = 0x6B616D69  # "kami": PostgreSQL advisory locks are keyed by integer
POLL_SECONDS = 0.5
WAIT_SECONDS = 600.0  # longer than any migration we expect; then fail loudly

_STATEMENTS = {
    "mysql": ("SELECT GET_LOCK(:name, 0)", "SELECT RELEASE_LOCK(:name)"),
    "postgresql": ("SELECT pg_try_advisory_lock(:key)", "SELECT pg_advisory_unlock(:key)"),
}


class MigrationLockTimeoutError(RuntimeError):
    """Another migrator held the lock for longer than we were willing to wait."""


@asynccontextmanager
async def migration_lock(connection: AsyncConnection) -> AsyncIterator[None]:
    """Hold the migration lock on ``connection`` for the block. On SQLite the block runs inside the
    exclusive transaction: commit on ``connection`` inside it, as Alembic's runner does."""
    if connection.dialect.name == "sqlite":
        async with _sqlite_exclusive(connection):
            yield
        return
    acquire, release = (text(s) for s in _STATEMENTS[connection.dialect.name])
    params = {"name": LOCK_NAME, "key": LOCK_KEY}
    deadline = time.monotonic() + WAIT_SECONDS
    while not (await connection.execute(acquire, params)).scalar():
        await connection.rollback()  # do not hold a snapshot open while waiting
        _give_up_after(deadline)
        await anyio.sleep(POLL_SECONDS)
    await connection.commit()  # session locks outlive the transaction; start migrating from a clean one
    try:
        yield
    finally:
        await connection.execute(release, params)
        await connection.commit()


@asynccontextmanager
async def _sqlite_exclusive(connection: AsyncConnection) -> AsyncIterator[None]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            # Waits up to the driver's busy timeout (5 s) for another writer, then "database is locked".
            await connection.exec_driver_sql("BEGIN EXCLUSIVE")
            break
        except OperationalError as exc:
            await connection.rollback()
            if "locked" not in str(exc):
                raise
            _give_up_after(deadline)
    try:
        yield
    except BaseException:
        await connection.rollback()
        raise


def _give_up_after(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise MigrationLockTimeoutError(f"another migration held the lock for over {WAIT_SECONDS:.0f} s")
