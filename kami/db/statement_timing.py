"""How long each SQL statement takes, by kind: what ``kami_db_query_duration_seconds`` is made of.

Statements reach the database two ways, and each is timed where it passes: SQLAlchemy's execution by
the engine's cursor events (:func:`time_statements`), kami's lean paths that call the driver themselves
inside :func:`kami.db.driver_calls.statement_span`. Both report to the one observer observability
registers (:func:`observe_with`): kami.db sits below observability and does not import its metrics.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

__all__ = ["KINDS", "observe_with", "record", "statement_kind", "time_statements"]

Observer = Callable[[str, float], None]
KINDS = ("select", "insert", "update", "delete")
_STARTED = "kami_statement_started"  # in the connection's info: when its running statement began
_observer: Observer | None = None


def statement_kind(sql: str) -> str:
    """``select``, ``insert``, ``update``, ``delete`` or ``other`` (BEGIN, COMMIT, DDL, SET...)."""
    head = sql.lstrip()[:6].lower()
    return head if head in KINDS else "other"


def observe_with(observer: Observer | None) -> None:
    """Where statement durations go (``None``: nowhere, the default)."""
    global _observer
    _observer = observer


def record(sql: str, seconds: float) -> None:
    if _observer is not None:
        _observer(statement_kind(sql), seconds)


def time_statements(engine: Engine) -> None:
    """Time every statement SQLAlchemy executes on ``engine`` (once per engine)."""
    if event.contains(engine, "after_cursor_execute", _stop):
        return
    event.listen(engine, "before_cursor_execute", _start)
    event.listen(engine, "after_cursor_execute", _stop)


def _start(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
    connection.info[_STARTED] = time.perf_counter()  # a connection runs one statement at a time


def _stop(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
    started = connection.info.pop(_STARTED, None)
    if started is not None:
        record(statement, time.perf_counter() - started)
