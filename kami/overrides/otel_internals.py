"""The parts of OpenTelemetry kami uses that are not public API, in one place.

- The sampler named by ``OTEL_TRACES_SAMPLER``: the SDK reads it only through a private helper.
- Logs: the SDK's log signal still lives in the private ``opentelemetry.sdk._logs`` package; its
  ``LoggingHandler`` is deprecated for the one in ``opentelemetry-instrumentation-logging``, used here.
- That handler sends every ``LogRecord`` attribute as an attribute; structlog adds three for its own
  formatter (a logger object the exporter cannot encode), so :class:`OtlpLogHandler` drops them.
- A full batch queue is reported only as a log line ("Queue full") of the private
  ``opentelemetry.sdk._shared_internal`` logger: :class:`QueueDropCounter` counts those.
- SQLAlchemy spans: ``SQLAlchemyInstrumentor`` declares SQLAlchemy < 2.1 and instruments nothing on 2.1
  unless its check is skipped (and as a process-wide singleton instruments only the first engine), so
  kami attaches the instrumentation's ``EngineTracer`` to each engine itself.

Overrides: uses ``opentelemetry.sdk._logs``, ``sampling._get_from_env_or_default``, the
``_shared_internal`` logger's messages, and the SQLAlchemy instrumentation's ``EngineTracer`` directly.
Upstream: the SQLAlchemy range — https://github.com/open-telemetry/opentelemetry-python-contrib/pull/2971
(``sqlalchemy >= 1.0.0, < 2.1.0``); the logs SDK is still marked experimental (``_logs``).
Written for: opentelemetry-sdk 1.45.1, opentelemetry-instrumentation-sqlalchemy and -logging 0.66b1,
structlog 26.1.0.
Tripwire: tests/overrides/test_otel_internals.py — fails when any of these moves or changes meaning
(for the SQLAlchemy range: once the instrumentation admits 2.1, use ``SQLAlchemyInstrumentor``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.trace.sampling import Sampler, _get_from_env_or_default
from opentelemetry.trace import Tracer

__all__ = [
    "SDK_INTERNAL_LOGGER",
    "BatchLogRecordProcessor",
    "LoggerProvider",
    "LoggingHandler",
    "OtlpLogHandler",
    "QueueDropCounter",
    "sampler_from_environment",
    "trace_engine",
]

SDK_INTERNAL_LOGGER = "opentelemetry.sdk._shared_internal"
_STRUCTLOG_EXTRAS = frozenset({"_logger", "_name", "_from_structlog"})


def sampler_from_environment() -> Sampler:
    """The sampler ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG`` name."""
    return _get_from_env_or_default()


class OtlpLogHandler(LoggingHandler):
    """The SDK's handler, minus the attributes structlog adds to each record for its own formatter."""

    def emit(self, record: logging.LogRecord) -> None:
        if not _STRUCTLOG_EXTRAS.isdisjoint(record.__dict__):
            fields = {k: v for k, v in record.__dict__.items() if k not in _STRUCTLOG_EXTRAS}
            record = logging.makeLogRecord(fields)
        super().emit(record)


class QueueDropCounter(logging.Handler):
    """Calls ``on_drop`` for each "Queue full" line of the SDK's batch processors (attach it to
    :data:`SDK_INTERNAL_LOGGER`)."""

    def __init__(self, on_drop: Callable[[], None]) -> None:
        super().__init__()
        self.on_drop = on_drop

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Queue full"):
            self.on_drop()


def trace_engine(tracer: Tracer, sync_engine: Any) -> None:
    """A client span for every statement on this engine (SQLAlchemy's own instrumentation, per engine)."""
    usage = NoOpMeter("kami").create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer, sync_engine, usage, enable_commenter=False)  # type: ignore[no-untyped-call]
