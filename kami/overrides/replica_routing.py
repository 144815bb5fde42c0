"""Read replicas: reads go round robin to the replicas, writes and transactions to the primary.

advanced-alchemy ships a routing session, but with SQLAlchemy 2.1 it fails on construction
(``RoutingAsyncSession`` sets ``bind`` before ``sync_session`` exists), so kami routes with the
documented ``Session.get_bind`` hook instead. A session that has written once sticks to the primary
for the rest of its life (read-your-writes within a request).

Overrides: advanced-alchemy's ``RoutingAsyncSession`` (kami's session maker routes instead).
Upstream: https://github.com/litestar-org/advanced-alchemy/issues/793, fixed by
https://github.com/litestar-org/advanced-alchemy/pull/794 (merged after 1.12.0).
Written for: advanced-alchemy 1.12.0, SQLAlchemy 2.1.9.
Tripwire: tests/overrides/test_replica_routing.py — fails once advanced-alchemy's routing session
constructs on this SQLAlchemy (then consider its routing instead of this module).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Delete, Insert, Update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

__all__ = ["routing_session_maker", "use_primary"]

_primary_only: ContextVar[bool] = ContextVar("kami_primary_only", default=False)


@contextmanager
def use_primary() -> Iterator[None]:
    """Send every statement inside this block to the primary."""
    token = _primary_only.set(True)
    try:
        yield
    finally:
        _primary_only.reset(token)


def routing_session_maker(
    primary: AsyncEngine, replicas: Sequence[AsyncEngine], **session_options: Any
) -> async_sessionmaker[AsyncSession]:
    replica_cycle = itertools.cycle([replica.sync_engine for replica in replicas])
    primary_sync = primary.sync_engine

    class RoutingSession(Session):
        _kami_wrote = False

        def get_bind(self, mapper: Any = None, clause: Any = None, **kwargs: Any) -> Engine:
            if self._flushing or isinstance(clause, Insert | Update | Delete):
                self._kami_wrote = True
            if self._kami_wrote or _primary_only.get() or not replicas:
                return primary_sync
            if clause is not None and getattr(clause, "_for_update_arg", None) is not None:
                return primary_sync
            return next(replica_cycle)

    return async_sessionmaker(bind=primary, sync_session_class=RoutingSession, **session_options)
