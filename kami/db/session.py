"""A database session outside any request (CLI commands, jobs), on the configured database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from kami.db.config import build_sqlalchemy_config
from kami.settings import Settings, get_settings

__all__ = ["session_scope"]


@asynccontextmanager
async def session_scope(settings: Settings | None = None) -> AsyncIterator[AsyncSession]:
    """A session whose engine is disposed when the block ends; commit inside it as services do."""
    config = build_sqlalchemy_config(settings or get_settings())
    try:
        async with config.get_session() as session:
            yield session
    finally:
        await config.get_engine().dispose()
