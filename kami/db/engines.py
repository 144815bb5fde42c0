"""Every engine kami makes is set up one way: the ORM's primary and replicas (through
advanced-alchemy's ``create_engine_callable``) and the autocommit pool the lean read path opens
beside each of them (:func:`kami.db.precompiled.read_engine_for`).

Each gets the connect options (connect timeout), the test of idle connections
(:mod:`kami.db.liveness`) and the server-side statement time limit: every new connection is told
``KAMI_DATABASE_STATEMENT_TIMEOUT`` in its database's own words, so a runaway statement is stopped by
the server even when the request that sent it is long gone (a client that gives up does not stop a
statement already running on MySQL or MariaDB).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from kami.db.liveness import ping_when_idle

__all__ = ["EngineSetup", "make_engine", "setup_of", "statement_limit"]


@dataclass(frozen=True)
class EngineSetup:
    connect_args: dict[str, Any] = field(default_factory=dict)
    ping_after: float | None = None  # test connections idle longer than this; None: no such test
    statement_timeout: float = 0.0  # seconds; 0: no limit


_setups: weakref.WeakKeyDictionary[Engine, EngineSetup] = weakref.WeakKeyDictionary()


def make_engine(url: str, setup: EngineSetup, **options: Any) -> AsyncEngine:
    """``create_async_engine(url, **options)`` set up as ``setup`` says (and remembered, so engines
    made beside it are set up the same way)."""
    engine = create_async_engine(url, **{**options, "connect_args": setup.connect_args})
    if setup.ping_after is not None:
        ping_when_idle(engine, setup.ping_after)
    if setup.statement_timeout > 0:
        _limit_statements(engine, setup.statement_timeout)
    _setups[engine.sync_engine] = setup
    return engine


def setup_of(engine: Engine) -> EngineSetup:
    """How ``engine`` was set up (an engine kami did not make: nothing)."""
    return _setups.get(engine, EngineSetup())


def statement_limit(dialect: Dialect, seconds: float) -> str | None:
    """The statement that limits each statement of a session to ``seconds``; None for SQLite (no server)."""
    if dialect.name == "postgresql":
        return f"SET statement_timeout = {max(int(seconds * 1000), 1)}"
    if dialect.name in ("mysql", "mariadb"):
        if getattr(dialect, "is_mariadb", False):
            return f"SET SESSION max_statement_time = {seconds:g}"
        return f"SET SESSION max_execution_time = {max(int(seconds * 1000), 1)}"  # MySQL: SELECTs only
    return None


def _limit_statements(engine: AsyncEngine, seconds: float) -> None:
    sync = engine.sync_engine

    # "connect" runs after the dialect's first-connect initialisation, so is_mariadb is known here.
    @event.listens_for(sync, "connect")
    def _limit(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        sql = statement_limit(sync.dialect, seconds)
        if sql is None:
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()
        # PostgreSQL's SET belongs to the transaction the driver opened for it: without this commit
        # the pool's rollback on the first give-back undid it (measured: 0 on the next checkout).
        dbapi_connection.commit()
