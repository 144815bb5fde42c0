"""Alembic, run the same way by the CLI, the embedded default's auto-migration and the tests.

``apps/migrations/env.py`` calls :func:`run_env`. It always opens its own short-lived engine
(NullPool) so that migrating never borrows connections from a running application's pool or loop.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from advanced_alchemy.alembic.commands import AlembicCommands
from advanced_alchemy.base import metadata_registry
from alembic.script import ScriptDirectory
from sqlalchemy import pool, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

import kami.db.audit  # kami's own tables (and the next line's), on the metadata every revision compares
import kami.db.idempotency  # noqa: F401 - likewise
from kami.db.config import (
    VERSION_TABLE,
    build_sqlalchemy_config,
    engine_options,
    migrations_path,
    normalise_url,
)
from kami.db.migration_lock import migration_lock
from kami.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = [
    "alembic_commands",
    "compare_type",
    "current_revision",
    "downgrade",
    "head_revision",
    "run_env",
    "upgrade",
]


def compare_type(context: Any, _: Any, __: Any, inspected_type: Any, metadata_type: Any) -> bool | None:
    """Alembic type comparison that knows advanced-alchemy's portable types.

    ``GUID`` and ``DateTimeUTC`` are stored as each backend's native type (BINARY(16), UUID, CHAR(32),
    DATETIME...) and reflect as that: comparing them by class would report drift that is not there.
    """
    from advanced_alchemy.types import GUID, DateTimeUTC

    if isinstance(metadata_type, GUID):
        return False
    if isinstance(metadata_type, DateTimeUTC):  # compare what the dialect really stores
        precise = getattr(metadata_type.load_dialect_impl(context.dialect), "fsp", None)
        return precise is not None and getattr(inspected_type, "fsp", None) != precise
    return None


def alembic_commands(settings: Settings) -> AlembicCommands:
    """Alembic on the one history. What autogenerate compares against is whatever models are imported:
    callers that generate revisions import every app first (``kami.app_spec.import_every_app``)."""
    commands = AlembicCommands(sqlalchemy_config=build_sqlalchemy_config(settings))
    commands.config.attributes["kami_settings"] = settings
    return commands


def upgrade(settings: Settings, revision: str = "head") -> None:
    alembic_commands(settings).upgrade(revision)


def downgrade(settings: Settings, revision: str = "base") -> None:
    alembic_commands(settings).downgrade(revision)


def head_revision() -> str | None:
    """The newest revision of the one history (read from the scripts; no database involved)."""
    return ScriptDirectory(str(migrations_path())).get_current_head()


async def current_revision(connection: Any) -> str | None:
    """The revision recorded in the database, read on an existing async connection."""
    try:
        result = await connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    except DBAPIError:
        return None
    row = result.first()
    return str(row[0]) if row else None


def run_env() -> None:
    """Body of Alembic's ``env.py``: offline (SQL output) or online against a fresh engine."""
    from alembic import context

    config: Any = context.config
    metadata = metadata_registry.get(config.bind_key)
    options: dict[str, Any] = {
        "target_metadata": metadata,
        "compare_type": compare_type,
        "version_table": config.version_table_name,
        "render_as_batch": config.render_as_batch,
        "user_module_prefix": config.user_module_prefix,
    }
    if context.is_offline_mode():
        context.configure(url=config.db_url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    async def online() -> None:
        settings = config.attributes.get("kami_settings") or get_settings()
        url = normalise_url(config.db_url)
        connect = {k: v for k, v in engine_options(settings, url).items() if k == "connect_args"}
        engine = create_async_engine(url, poolclass=pool.NullPool, **connect)
        try:
            async with engine.connect() as connection, migration_lock(connection):
                await connection.run_sync(migrate)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(online())
