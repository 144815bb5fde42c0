"""kami.overrides.pool_internals: the private pool attributes still mean what the engine was made with."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import create_async_engine

from kami.overrides.pool_internals import max_overflow, recycle_seconds


async def test_tripwire_pool_attributes_hold_the_engines_options() -> None:
    engine = create_async_engine(
        "postgresql+asyncpg://nobody@127.0.0.1:1/none", pool_size=3, max_overflow=7, pool_recycle=123
    )
    try:
        pool = engine.sync_engine.pool
        assert pool.size() == 3  # type: ignore[attr-defined]
        assert (max_overflow(pool), recycle_seconds(pool)) == (7, 123)
    finally:
        await engine.dispose()
