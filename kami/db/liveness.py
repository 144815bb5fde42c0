"""Test a pooled connection before use only when it has sat idle: no round trip per request at load.

SQLAlchemy's ``pool_pre_ping`` pings on every checkout, one extra round trip for every request that
touches the session (bench/http_suite.py counts them: 1.0 ping per request at load). A connection
given back a moment ago was alive a moment ago; one that sat in the pool longer than
``KAMI_DATABASE_PRE_PING_AFTER`` seconds may have been cut meanwhile (a server restart, a failover, a
proxy's idle timeout) and is tested first. A failed test raises ``DisconnectionError`` from the pool's
``checkout`` event, the pessimistic check SQLAlchemy documents: the pool discards that connection and
checks out another (any failure of the test counts: asyncmy raises a bare ``RuntimeError`` for a socket
that is already closed). A connection that dies while in use is handled as before (the error invalidates
the pool, so every older connection is replaced on its next checkout).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

__all__ = ["ping_when_idle"]

_RETURNED = "kami_returned_at"  # key in the connection record's ``info``: when it was last given back


def ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping ``engine``'s pooled connections on checkout when idle for more than ``idle_seconds``."""
    sync = engine.sync_engine
    dialect = sync.dialect

    @event.listens_for(sync, "checkin")
    def _given_back(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED] = time.monotonic()

    @event.listens_for(sync, "checkout")
    def _lent(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection) -> None:
        returned = record.info.pop(_RETURNED, None)
        if returned is None or time.monotonic() - returned <= idle_seconds:
            return  # just opened, or used a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # Whatever the failure (a driver error, or asyncmy's RuntimeError "Transport does not
            # expose socket instance" for a socket already closed), this connection cannot be trusted:
            # the pool replaces it, and if the server is down that new connection's error is the answer.
            raise DisconnectionError(f"an idle pooled connection failed its test: {exc!r}") from exc
