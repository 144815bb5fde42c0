"""What the lean data paths share when they talk to the driver themselves, past SQLAlchemy's execution:
the column types' result processors, Python-side column defaults and the client span SQLAlchemy's
instrumentation would have made. (Driver exceptions become SQLAlchemy's in :mod:`kami.db.errors`.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from sqlalchemy.engine import Dialect

from kami.db.statement_timing import record

__all__ = [
    "Processor",
    "python_default",
    "statement_span",
    "trace_with",
]

Processor = Callable[[Any], Any] | None
_tracer: trace.Tracer = trace.get_tracer("kami.db")


def trace_with(provider: trace.TracerProvider) -> None:
    """Statement spans go to this provider (the app's telemetry, as SQLAlchemy's instrumentation does;
    the global provider is whichever app of the process came first)."""
    global _tracer
    _tracer = provider.get_tracer("kami.db")


def statement_span(dialect: Dialect, sql: str, name: str) -> Any:
    """Around one statement the driver runs: its duration (:mod:`kami.db.statement_timing`) and, when the
    request is sampled, its client span (as the ORM path has)."""
    if not trace.get_current_span().is_recording():
        return _timed(sql)
    return _span(dialect.name, sql, name)


@contextmanager
def _timed(sql: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        record(sql, time.perf_counter() - started)


@contextmanager
def _span(system: str, sql: str, name: str) -> Iterator[None]:
    attributes = {"db.system": system, "db.statement": sql, "db.operation": name.partition(" ")[0]}
    with _tracer.start_as_current_span(name, kind=trace.SpanKind.CLIENT, attributes=attributes), _timed(sql):
        yield


def python_default(default: Any) -> Any:
    """A column's Python-side ``default=`` / ``onupdate=`` value, as SQLAlchemy computes it when it
    executes a statement itself (a scalar, or a callable's result)."""
    return default.arg(None) if default.is_callable else default.arg
