"""The server span of every HTTP request, with the sampling decision taken before any span work.

Litestar's OpenTelemetry plugin wraps opentelemetry-instrumentation-asgi, which collects some fifteen
attributes, parses the URL and wraps every send before the sampler has decided anything; at the
production ratio nine requests in ten paid for attributes nobody records. Here the sampler sees only
the method and path (enough for :class:`~kami.observability.telemetry` to drop platform paths),
and the rest of the attributes are added only to spans that are recorded. An unrecorded request
runs with instrumentation suppressed, so its SQL statements and Redis commands skip span work too.
The span is named ``METHOD /route/template`` by :func:`kami.pipeline.access_log.annotate_response`
once routing is known.
"""

from __future__ import annotations

from collections.abc import Iterable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.propagate import extract
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

__all__ = ["ServerSpanMiddleware"]


class _ScopeHeaders(Getter[Scope]):
    def get(self, carrier: Scope, key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        found = [value.decode("latin-1") for name, value in carrier.get("headers", ()) if name == wanted]
        return found or None

    def keys(self, carrier: Scope) -> list[str]:
        return [name.decode("latin-1") for name, _ in carrier.get("headers", ())]


_GETTER = _ScopeHeaders()


def _header(scope: Scope, name: bytes) -> str | None:
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers", ())
    return next((value.decode("latin-1") for key, value in headers if key == name), None)


class ServerSpanMiddleware:
    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", ""))
        parent = extract(scope, getter=_GETTER)
        span = self.tracer.start_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope.get("path", "")},
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        try:
            if not span.is_recording():
                # Nothing below can be recorded either: tell the SQL and Redis instrumentations so
                # before they format statements and start spans nobody will see.
                with suppress_instrumentation():
                    await self.app(scope, receive, send)
                return
            await self._recorded(span, scope, receive, send)
        finally:
            span.end()
            otel_context.detach(token)

    async def _recorded(self, span: trace.Span, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        server = scope.get("server")
        span.set_attributes(
            {
                "url.scheme": str(scope.get("scheme", "http")),
                "network.protocol.version": str(scope.get("http_version", "")),
                "client.address": client[0] if client else "",
                "server.address": server[0] if server else "",
                "user_agent.original": _header(scope, b"user-agent") or "",
            }
        )

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            await send(message)

        try:
            await self.app(scope, receive, observed)
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
