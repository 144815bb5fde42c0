"""structlog for kami's own logs and the standard library's, through one set of processors.

Every line carries ``timestamp``, ``level``, ``logger``, ``event``, ``trace_id``, ``span_id`` and
``service.name``. Standard-library records get the trace id stamped when they are created (not when a
handler thread formats them, which would be too late).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog
from structlog.typing import EventDict, Processor

from kami.envelope import current_span_id
from kami.overrides.upstream_warnings import silence_upstream_warnings
from kami.settings import Settings

__all__ = [
    "ACCESS_LOGGER",
    "AccessLineWriter",
    "access_line_writer",
    "configure_logging",
    "granian_formatter",
    "granian_log_config",
    "service_name",
    "uses_json",
]

ACCESS_LOGGER = "kami.access"
_service_name = "kami"
_handler: logging.StreamHandler[Any] | None = None  # kami's stderr handler, set by configure_logging


def _add_trace_context(_: Any, __: str, event: EventDict) -> EventDict:
    from opentelemetry import trace

    record = event.get("_record")
    if record is not None and getattr(record, "trace_id", None):
        event.setdefault("trace_id", record.trace_id)
        event.setdefault("span_id", record.span_id)
        return event
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", current_span_id())
    return event


def _add_service(_: Any, __: str, event: EventDict) -> EventDict:
    event.setdefault("service.name", _service_name)
    return event


class _TraceStampingFilter(logging.Filter):
    """Stamp the trace context on stdlib records at creation, in the request's own context."""

    def filter(self, record: logging.LogRecord) -> bool:
        from opentelemetry import trace

        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return True


_encoder = msgspec.json.Encoder(enc_hook=str)


def _dumps(event: Any, **_: Any) -> str:
    """msgspec instead of json.dumps for every JSON line (several times faster; unknown types as str)."""
    return _encoder.encode(event).decode()


def uses_json(settings: Settings) -> bool:
    fmt = settings.app.log_format
    return fmt == "json" or (fmt == "auto" and settings.app.environment != "development")


def service_name(settings: Settings) -> str:
    return settings.telemetry.service_name or os.environ.get("OTEL_SERVICE_NAME") or settings.app.name


def configure_logging(settings: Settings, name: str | None = None) -> None:
    """Route structlog and the standard library's logging (and every warning) to one stderr handler."""
    global _service_name
    _service_name = name or service_name(settings)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_context,
        _add_service,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(serializer=_dumps)
        if uses_json(settings)
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.processors.format_exc_info],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    global _handler
    handler = _handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(_TraceStampingFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.app.log_level.upper())
    for noisy in ("httpx", "httpcore", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    silence_upstream_warnings()
    logging.captureWarnings(True)  # a library's warning becomes a line like any other (logger py.warnings)


def granian_log_config(settings: Settings) -> dict[str, object]:
    """A ``logging.dictConfig`` for Granian's own loggers, rendered like kami's lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "kami": {"()": "kami.observability.logging.granian_formatter", "json": uses_json(settings)}
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "kami", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "_granian": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


def granian_formatter(json: bool) -> logging.Formatter:
    renderer: Processor = (
        structlog.processors.JSONRenderer(serializer=_dumps)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_service,
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )


AccessLineWriter = Callable[[dict[str, Any]], None]


def access_line_writer(settings: Settings) -> AccessLineWriter:
    """Write one access line per request straight to kami's stderr handler, as every other line looks.

    Going through structlog and the standard library costs about a third of a small request (a bound
    logger, a processor chain, a ``LogRecord``, its copy in ``ProcessorFormatter``, a filter chain);
    an access line has a fixed shape, so it is stamped and encoded once here. Lines keep the logger's
    level (``KAMI_LOG_LEVEL`` above INFO silences them) and are never sent over OTLP by this path.
    """
    render: Callable[[dict[str, Any]], str] = (
        _dumps
        if uses_json(settings)
        else lambda line: str(structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())(None, "info", line))
    )
    logger = logging.getLogger(ACCESS_LOGGER)

    def write(fields: dict[str, Any]) -> None:
        handler = _handler
        if handler is None or not logger.isEnabledFor(logging.INFO):
            return
        line = {
            **fields,
            "level": "info",
            "logger": ACCESS_LOGGER,
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "service.name": _service_name,
        }
        text = render(line) + "\n"
        handler.acquire()
        try:
            handler.stream.write(text)
            handler.stream.flush()
        finally:
            handler.release()

    return write
