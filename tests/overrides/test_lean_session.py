"""kami's sessions skip closing only when there is nothing to close."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from apps.app_b.models import Product
from kami.db.config import build_sqlalchemy_config
from kami.overrides.lean_session import LeanSession
from kami.settings import Settings


async def test_close_still_ends_transactions_and_detaches_objects(db_settings: Settings) -> None:
    config = build_sqlalchemy_config(db_settings)
    engine = config.get_engine()
    try:
        async with config.get_session() as session:
            assert isinstance(session, LeanSession)
            session.add(Product(name="never committed", price=Decimal(1), stock=1))
            await session.flush()  # a transaction holding a pooled connection
            await session.close()
            assert not session.in_transaction()
            if engine.dialect.name != "sqlite":  # SQLite's pool here is not a counting pool
                assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]

            kept = Product(name="kept", price=Decimal(2), stock=2)
            session.add(kept)
            await session.commit()  # no transaction now, but the object is still in the session
            assert kept in session
            await session.close()
            assert kept not in session

            await session.close()  # nothing to close: a no-op, and the session goes on
            names = list((await session.execute(select(Product.name))).scalars())
            assert names == ["kept"]
            assert (await session.execute(select(func.count()).select_from(Product))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_tripwire_a_plain_session_still_enters_a_greenlet_to_close_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What kami.overrides.lean_session saves: if this fails, SQLAlchemy closes an unused session
    without a greenlet hop by itself and the override can go."""
    import sqlalchemy.ext.asyncio.session as async_session_module

    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}")
    hops = 0
    real = async_session_module.greenlet_spawn

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal hops
        hops += 1
        return await real(*args, **kwargs)

    monkeypatch.setattr(async_session_module, "greenlet_spawn", counting)
    try:
        await AsyncSession(engine).close()
        plain = hops
        await LeanSession(engine).close()
    finally:
        await engine.dispose()
    assert plain >= 1
    assert hops == plain  # kami's session did not hop at all
