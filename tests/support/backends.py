"""The three database backends every data-layer test runs on, migrated once per session."""

from __future__ import annotations

import anyio
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from kami.db.audit import GENESIS, AuditHead
from kami.db.config import normalise_url
from kami.settings import Settings

__all__ = ["BACKENDS", "drop_everything", "reset_schema", "truncate_app_tables"]

BACKENDS = ["sqlite", "mysql", "postgres"]


async def _drop_everything(url: str) -> None:
    """Drop every table (including Alembic's) so a test starts from an empty database."""
    from sqlalchemy import MetaData

    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.begin() as connection:
            metadata = MetaData()
            await connection.run_sync(metadata.reflect)
            await connection.run_sync(metadata.drop_all)
    finally:
        await engine.dispose()


def reset_schema(settings: Settings) -> None:
    """Empty the database and apply every migration."""
    from kami.db.migrations import upgrade

    drop_everything(settings.database_url)
    upgrade(settings)


def drop_everything(url: str) -> None:
    anyio.run(_drop_everything, url)


async def _truncate(url: str, tables: list[str]) -> None:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.begin() as connection:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))
            # As the migration leaves it: the audit trail's one head row, at the start of the chain.
            await connection.execute(insert(AuditHead).values(id=1, seq=0, hash=GENESIS))
    finally:
        await engine.dispose()


def truncate_app_tables(settings: Settings) -> None:
    from advanced_alchemy.base import metadata_registry

    tables = [t.name for t in reversed(metadata_registry.get(None).sorted_tables)]
    anyio.run(_truncate, settings.database_url, tables)
