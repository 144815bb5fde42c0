"""The process's OpenTelemetry pipeline: traces and logs over OTLP gRPC, sampled, bounded, observable.

Nothing is exported unless an endpoint is configured (``KAMI_TELEMETRY_OTLP_ENDPOINT`` or the standard
``OTEL_EXPORTER_OTLP_ENDPOINT``); spans still exist so every response carries a real W3C trace id.
The standard ``OTEL_*`` variables keep their meaning (sampler, batch processor, resource attributes).
Health, metrics and docs requests are never recorded (their trace id stays valid for the envelope).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import anyio
import structlog
from litestar.types import ASGIApp
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult, TraceIdRatioBased
from opentelemetry.trace import Link, SpanKind, Tracer
from opentelemetry.util.types import Attributes

from kami.db.driver_calls import trace_with
from kami.db.statement_timing import observe_with, time_statements
from kami.observability.events import event_total, events
from kami.observability.logging import ACCESS_LOGGER, service_name
from kami.observability.server_span import ServerSpanMiddleware
from kami.overrides.otel_internals import (
    SDK_INTERNAL_LOGGER,
    BatchLogRecordProcessor,
    LoggerProvider,
    LoggingHandler,
    OtlpLogHandler,
    QueueDropCounter,
    sampler_from_environment,
    trace_engine,
)
from kami.routes import PLATFORM_PATHS
from kami.settings import Settings


class TracedClient(Protocol):
    """A client that makes its own spans with the tracer it is given (the store's pipelined Redis)."""

    tracer: Tracer | None


__all__ = ["Telemetry", "build_telemetry", "service_name"]

_log = structlog.get_logger("kami.telemetry")
DEGRADED_FOR = 60.0  # seconds after a failed export during which telemetry reports "degraded"
SHUTDOWN_FLUSH_MS = 5000


class _SkipPlatformPaths(Sampler):
    """Drop health, metrics and docs requests; delegate everything else."""

    def __init__(self, delegate: Sampler) -> None:
        self.delegate = delegate

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        path = str((attributes or {}).get("url.path") or (attributes or {}).get("http.target") or "")
        if kind == SpanKind.SERVER and path.startswith(PLATFORM_PATHS):
            return SamplingResult(Decision.DROP)
        return self.delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"SkipPlatformPaths({self.delegate.get_description()})"


def _quiet_sdk_logging() -> None:
    """The exporter logs every failed attempt with a traceback; kami logs outages once and counts
    drops instead (a dead collector must not flood the logs or cost the requests)."""
    logging.getLogger("opentelemetry.exporter.otlp").setLevel(logging.CRITICAL)
    internal = logging.getLogger(SDK_INTERNAL_LOGGER)
    internal.propagate = False
    if not any(isinstance(h, QueueDropCounter) for h in internal.handlers):
        internal.addHandler(QueueDropCounter(lambda: events.increment("telemetry_dropped_spans")))


class _CountingExporter(SpanExporter):
    """Wraps the OTLP exporter to count failures and remember the last one (for ``/health``)."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.last_failure = 0.0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export(spans)
        except Exception:  # an exporter must never take the process down
            result = SpanExportResult.FAILURE
        if result is not SpanExportResult.SUCCESS:
            if not self.failing:
                _log.warning("telemetry export failing; spans are being dropped", spans=len(spans))
            self.last_failure = time.monotonic()
            events.increment("telemetry_dropped_spans", len(spans))
        elif self.failing:
            _log.info("telemetry export recovered")
            self.last_failure = 0.0
        return result

    @property
    def failing(self) -> bool:
        return bool(self.last_failure) and time.monotonic() - self.last_failure < DEGRADED_FOR

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _exported(record: logging.LogRecord) -> bool:
    """Which log records go over OTLP: never the SDK's own (no feedback loop)."""
    return not record.name.startswith("opentelemetry")


class Telemetry:
    """Owns the tracer (and logger) providers; ``server_span`` wraps the app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.service_name = service_name(settings)
        resource = Resource.create({"service.name": self.service_name})
        self.tracer_provider = TracerProvider(resource=resource, sampler=_SkipPlatformPaths(self._sampler()))
        self.endpoint = settings.telemetry.otlp_endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
        self.exporter: _CountingExporter | None = None
        self.logger_provider: Any = None
        self.log_handler: logging.Handler | None = None
        if self.endpoint:
            self._export_to(self.endpoint, resource)
        _install_global(self.tracer_provider)
        self._tracer = self.tracer_provider.get_tracer("kami.http")

    def server_span(self, app: ASGIApp) -> ASGIApp:
        """Wrap the whole app (unknown routes included) in the request's server span."""
        return ServerSpanMiddleware(app, self._tracer)

    def _sampler(self) -> Sampler:
        if os.environ.get("OTEL_TRACES_SAMPLER"):
            return sampler_from_environment()
        return ParentBased(TraceIdRatioBased(self.settings.sampling_ratio))

    def _export_to(self, endpoint: str, resource: Resource) -> None:
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        _quiet_sdk_logging()
        insecure = not endpoint.startswith("https://")
        self.exporter = _CountingExporter(OTLPSpanExporter(endpoint=endpoint, insecure=insecure, timeout=5))
        self.tracer_provider.add_span_processor(BatchSpanProcessor(self.exporter))
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(OTLPLogExporter(endpoint=endpoint, insecure=insecure, timeout=5))
        )
        root = logging.getLogger()
        for handler in [h for h in root.handlers if isinstance(h, LoggingHandler)]:
            root.removeHandler(handler)  # one OTLP log handler per process: the newest app's
        handler = OtlpLogHandler(level=logging.INFO, logger_provider=self.logger_provider)
        handler.addFilter(_exported)
        root.addHandler(handler)
        self.log_handler = handler

    def export_access_line(self, fields: dict[str, Any]) -> None:
        """Access lines go over OTLP only for sampled requests, where a trace exists to read them with
        (every line still goes to stderr); called inside the request's span, which the record joins."""
        if self.log_handler is None or not trace.get_current_span().get_span_context().trace_flags.sampled:
            return
        self.log_handler.handle(
            logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, fields, None, None)
        )

    def instrument(self, engines: Sequence[Any], redis: Any, store: TracedClient | None = None) -> None:
        """Child spans for every SQL statement and Redis command (on these engines and clients), and
        every statement's duration in ``kami_db_query_duration_seconds``."""
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        from kami.observability.metrics import record_statement  # after the multiprocess folder is set

        tracer = self.tracer_provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
        observe_with(record_statement)  # the lean paths' statements, timed in kami.db.driver_calls
        for engine in engines:  # per engine, not SQLAlchemyInstrumentor: see kami.overrides.otel_internals
            trace_engine(tracer, engine.sync_engine)
            time_statements(engine.sync_engine)
        if redis is not None:
            RedisInstrumentor.instrument_client(redis, tracer_provider=self.tracer_provider)
        if store is not None:
            store.tracer = self.tracer_provider.get_tracer("kami.store")
        trace_with(self.tracer_provider)  # the lean SQL paths, which bypass SQLAlchemy's events

    @property
    def state(self) -> tuple[Literal["disabled", "ok", "degraded"], str | None]:
        """``(status, detail)`` for ``/health``: disabled, ok, or degraded after a recent failed export."""
        if self.exporter is None:
            return "disabled", "no OTLP endpoint configured"
        if self.exporter.failing:
            dropped = int(event_total("telemetry_dropped_spans"))
            return "degraded", f"export to {self.endpoint} failing; {dropped} spans dropped"
        return "ok", None

    async def shutdown(self) -> None:
        """Flush what is pending and stop, giving up after ``SHUTDOWN_FLUSH_MS`` (an unreachable
        collector must not hold the process): the work runs in a daemon thread we stop waiting for."""

        def flush_and_stop() -> None:
            self.tracer_provider.force_flush(SHUTDOWN_FLUSH_MS)
            self.tracer_provider.shutdown()
            if self.logger_provider is not None:
                self.logger_provider.force_flush(SHUTDOWN_FLUSH_MS)
                self.logger_provider.shutdown()

        worker = threading.Thread(target=flush_and_stop, name="kami-telemetry-shutdown", daemon=True)
        worker.start()
        await anyio.to_thread.run_sync(worker.join, SHUTDOWN_FLUSH_MS / 1000)


_global_installed = False


def _install_global(provider: TracerProvider) -> None:
    """The first provider of the process becomes the global one (jobs and libraries use it);
    OpenTelemetry allows setting it only once."""
    global _global_installed
    if not _global_installed:
        trace.set_tracer_provider(provider)
        _global_installed = True


def build_telemetry(settings: Settings) -> Telemetry:
    return Telemetry(settings)
