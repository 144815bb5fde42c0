"""One migrator at a time: a database-wide lock held while Alembic runs.

Several replicas started with ``serve --migrate`` (or a migration job racing an init container) would
otherwise apply the same revision twice and fail on "table exists". The lock is the server's own
session lock (MySQL/MariaDB ``GET_LOCK``, PostgreSQL advisory lock), so a crashed migrator releases
it with its connection. SQLite needs none: it is the embedded, single-node default.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from sqlalchemy import text
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
    statements = _STATEMENTS.get(connection.dialect.name)
    if statements is None:
        yield
        return
    acquire, release = (text(s) for s in statements)
    params = {"name": LOCK_NAME, "key": LOCK_KEY}
    deadline = time.monotonic() + WAIT_SECONDS
    while not (await connection.execute(acquire, params)).scalar():
        await connection.rollback()  # do not hold a snapshot open while waiting
        if time.monotonic() > deadline:
            raise MigrationLockTimeoutError(f"another migration held the lock for over {WAIT_SECONDS:.0f} s")
        await anyio.sleep(POLL_SECONDS)
    await connection.commit()  # session locks outlive the transaction; start migrating from a clean one
    try:
        yield
    finally:
        await connection.execute(release, params)
        await connection.commit()
