"""kami.overrides.replica_routing: advanced-alchemy's routing session on this SQLAlchemy."""

from __future__ import annotations

from pathlib import Path

import pytest
from advanced_alchemy.config.routing import RoutingConfig
from advanced_alchemy.routing.selectors import RoundRobinSelector
from advanced_alchemy.routing.session import RoutingAsyncSession
from sqlalchemy.ext.asyncio import create_async_engine


async def test_tripwire_advanced_alchemys_routing_session_fails_to_construct(tmp_path: Path) -> None:
    """If this fails, advanced-alchemy's RoutingAsyncSession works on this SQLAlchemy
    (advanced-alchemy#793, fixed by #794): consider its routing instead of kami's."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'primary.db'}"
    engine = create_async_engine(url)
    config = RoutingConfig(primary_connection_string=url, read_replicas=[url])
    try:
        with pytest.raises(AttributeError, match="sync_session"):
            RoutingAsyncSession(
                routing_config=config, selectors={"read": RoundRobinSelector([engine])}, default_engine=engine
            )
    finally:
        await engine.dispose()
