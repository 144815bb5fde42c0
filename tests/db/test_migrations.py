"""One migration history for all apps: reversible, and in step with the models, on every backend."""

from __future__ import annotations

import anyio
from advanced_alchemy.base import metadata_registry
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from kami.app_spec import import_every_app
from kami.db.config import normalise_url
from kami.db.migrations import compare_type, downgrade, head_revision, upgrade
from kami.settings import Settings


async def _tables_and_diff(url: str) -> tuple[set[str], list[object]]:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as connection:

            def inspect_sync(sync_connection: object) -> tuple[set[str], list[object]]:
                tables = set(inspect(sync_connection).get_table_names())
                context = MigrationContext.configure(sync_connection, opts={"compare_type": compare_type})  # type: ignore[arg-type]
                return tables, compare_metadata(context, metadata_registry.get(None))

            return await connection.run_sync(inspect_sync)
    finally:
        await engine.dispose()


def test_upgrade_downgrade_upgrade_and_no_drift(migrated: Settings) -> None:
    import_every_app()  # every model on the metadata, whichever tests ran before this one
    settings = migrated
    upgrade(settings)
    tables, diff = anyio.run(_tables_and_diff, settings.database_url)
    assert "app_b_product" in tables
    assert diff == [], f"models and migrations have drifted: {diff}"

    downgrade(settings, "base")
    tables, _ = anyio.run(_tables_and_diff, settings.database_url)
    assert tables <= {"alembic_version"}, tables

    upgrade(settings)
    tables, diff = anyio.run(_tables_and_diff, settings.database_url)
    assert "app_b_product" in tables
    assert diff == []
    assert head_revision() is not None
