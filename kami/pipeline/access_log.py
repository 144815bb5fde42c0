"""Per-request observability at the edge: response trace headers, span naming, request ids and the
access log. Installed around Litestar's own handler so unknown routes (404) and wrong methods (405),
which no route middleware sees, are covered too."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import trace

from kami.envelope import current_span_id, current_trace_id
from kami.observability.logging import AccessLineWriter
from kami.observability.metrics import IN_FLIGHT, record_pool, record_redis_store, record_request
from kami.overrides.response_headers import set_response_headers
from kami.pipeline.head import requested_method
from kami.routes import PLATFORM_APP, policy_of
from kami.security.trusted_proxies import TrustedProxies
from kami.store.backend import Backend, RedisBackend
from kami.store.pipelined import MAX_IN_FLIGHT

__all__ = ["AccessLog", "annotate_response"]

POOL_SAMPLE_SECONDS = 1.0
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


async def annotate_response(message: Message, scope: Scope) -> None:
    """``before_send``: trace headers on every response; the server span named by route template."""
    if message["type"] != "http.response.start":
        return
    span = trace.get_current_span()
    context = span.get_span_context()
    trace_id = current_trace_id()
    headers = [(b"x-trace-id", trace_id.encode())]
    if context.is_valid:
        parent = f"00-{trace_id}-{context.span_id:016x}-{int(context.trace_flags):02x}"
        headers.append((b"traceparent", parent.encode()))
    request_id = scope.get("state", {}).get("kami_request_id")
    if request_id:
        headers.append((b"x-request-id", request_id.encode()))
    set_response_headers(message, headers)
    if span.is_recording():
        template = scope.get("path_template") or "unmatched route"
        span.update_name(f"{requested_method(scope)} {template}")
        span.set_attribute("http.route", template)
        handler = scope.get("route_handler")
        if handler is not None:
            span.set_attribute("kami.app", policy_of(handler).app)
        identity = scope.get("kami_identity")  # type: ignore[typeddict-item]
        if identity is not None:
            span.set_attribute("enduser.id", str(getattr(identity, "user_id", "")))
            api_key = getattr(identity, "api_key", "")
            if api_key:
                span.set_attribute("kami.api_key", api_key)


class AccessLog:
    """One line and one metrics sample per request (method, route, status, duration, client, trace and
    request ids); never headers, cookies, bodies or tokens. Also assigns the request id every log
    line carries."""

    def __init__(
        self,
        app: ASGIApp,
        proxies: TrustedProxies,
        writers: Sequence[AccessLineWriter],
        pool: Any,
        backend: Backend,
    ) -> None:
        self.app = app
        self.proxies = proxies
        self.writers = tuple(writers)
        self.pool = pool  # the primary's, sampled into the pool gauges
        self.store = backend.redis if isinstance(backend, RedisBackend) else None
        self._pools_sampled = -POOL_SAMPLE_SECONDS

    def _sample_pools(self, now: float) -> None:
        """Pool gauges at most once per second per worker: they are levels, not events."""
        if now - self._pools_sampled < POOL_SAMPLE_SECONDS:
            return
        self._pools_sampled = now
        record_pool(self.pool)
        if self.store is not None:
            record_redis_store(self.store.connected, self.store.in_flight, MAX_IN_FLIGHT)

    def _request_id(self, scope: Scope) -> str:
        sent = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        if sent and _REQUEST_ID.match(sent) and self.proxies.trusts_peer(scope):
            return sent
        return str(uuid.uuid4())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = str(scope.get("method", ""))  # before HeadAsGet runs a HEAD request as its GET
        IN_FLIGHT.inc()
        request_id = self._request_id(scope)
        scope.setdefault("state", {})["kami_request_id"] = request_id  # type: ignore[typeddict-item]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        seen: dict[str, Any] = {"status": 500, "trace_id": None, "span_id": None, "logged": False}

        def log_once() -> None:
            if seen["logged"]:
                return
            seen["logged"] = True
            seconds = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched route"
            handler = scope.get("route_handler")
            app = policy_of(handler).app if handler is not None else PLATFORM_APP
            IN_FLIGHT.dec()
            record_request(method, route, seen["status"], app, seconds)
            self._sample_pools(started)
            line = {
                "event": "request",
                "method": method,
                "route": route,
                "status": seen["status"],
                "duration_ms": round(seconds * 1000, 2),
                "client": (scope.get("client") or ("", 0))[0],
                "trace_id": seen["trace_id"],
                "span_id": seen["span_id"],
                "request_id": request_id,
                "app": app,
            }
            api_key = getattr(scope.get("kami_identity"), "api_key", "")  # an id, never the secret
            if api_key:
                line["api_key"] = api_key
            for write in self.writers:
                write(line)

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                seen["trace_id"] = current_trace_id()
                seen["span_id"] = current_span_id()
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                log_once()  # still inside the request's span: the OTLP log record carries its trace

        try:
            await self.app(scope, receive, watch)
        finally:
            log_once()
            structlog.contextvars.unbind_contextvars("request_id")
