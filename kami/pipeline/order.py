"""The order every request passes through, outermost first — the one place it is written down.

1. ``AccessLog``: request id, the access line and the request metrics (every request, 404/405 too).
2. ``ServerSpanMiddleware``: W3C trace context, sampling; the trace id the envelope carries.
   ``HeadAsGet``: a HEAD request runs its GET route and is answered without the content.
3. Litestar routes the request; the exception handlers (``kami.pipeline.exception_handlers``) turn any
   failure from here on into the envelope. Unknown routes and wrong methods stop here (404/405).
4. On a matched route, ``HeaderLimitMiddleware`` (431); then on an app's route (mounted under its
   prefix; kami's own routes pay nothing for these), in order: ``AdmissionMiddleware`` (503 beyond the
   worker's capacity), ``DeadlineMiddleware`` (504 past the route's deadline),
   ``AuthenticationMiddleware`` (reads the credentials and their session once), ``RateLimitMiddleware`` (429),
   ``IdempotencyMiddleware`` (a replay answers the stored response), ``ResponseCacheMiddleware`` (a
   hit answers with a fresh trace id).
5. The guards, then the handler: a controller parses, calls one service, wraps with ``success()``.
6. Before the response starts: ``annotate_response`` (trace headers, span name), ``security_headers``,
   ``options_allow_header`` (the ``Allow`` of OPTIONS answers).

1 and 2 wrap Litestar itself (:func:`wrap_edge`); 4 and 6 are handed to Litestar (:func:`middleware`
to the application, :func:`app_route_middleware` to every app's router, :func:`before_send`).
``docs/architecture.md`` draws the same order, and a test compares the two.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Middleware

from kami.observability.logging import access_line_writer
from kami.overrides.options_allow import options_allow_header
from kami.overrides.response_headers import SendHook
from kami.pipeline.access_log import AccessLog, annotate_response
from kami.pipeline.admission import AdmissionMiddleware
from kami.pipeline.authentication import AuthenticationMiddleware
from kami.pipeline.deadline import DeadlineMiddleware
from kami.pipeline.head import HeadAsGet
from kami.pipeline.header_limit import HeaderLimitMiddleware
from kami.pipeline.idempotency import IdempotencyMiddleware
from kami.pipeline.rate_limit import RateLimitMiddleware
from kami.pipeline.response_cache import ResponseCacheMiddleware
from kami.pipeline.runtime import Runtime
from kami.pipeline.security_headers import security_headers
from kami.security.trusted_proxies import TrustedProxies

__all__ = ["app_route_middleware", "before_send", "middleware", "wrap_edge"]


def wrap_edge(litestar_handler: ASGIApp, runtime: Runtime, proxies: TrustedProxies) -> ASGIApp:
    """Steps 1 and 2, around Litestar's own handler."""
    telemetry = runtime.telemetry
    writers = [access_line_writer(runtime.settings), telemetry.export_access_line]
    return AccessLog(
        telemetry.server_span(HeadAsGet(litestar_handler)),
        proxies,
        writers=writers,
        pool=runtime.engine.pool,
        backend=runtime.backend,
    )


def middleware(runtime: Runtime) -> list[Middleware]:
    """Step 4, on every matched route."""
    return [HeaderLimitMiddleware(runtime.settings.server.max_header_size)]


def app_route_middleware(runtime: Runtime, proxies: TrustedProxies) -> list[Middleware]:
    """Step 4, on the routes of the mounted apps only: Litestar composes each route's stack once, at
    start-up, so a health probe or a metrics scrape never passes through them."""
    settings = runtime.settings
    return [
        AdmissionMiddleware(settings.server.max_in_flight),
        DeadlineMiddleware(),
        AuthenticationMiddleware(runtime.identity.credentials),
        RateLimitMiddleware(settings.ratelimit, proxies, runtime.backend),
        IdempotencyMiddleware(settings, proxies, runtime.request_session),
        ResponseCacheMiddleware(runtime.backend),
    ]


def before_send(proxies: TrustedProxies) -> list[SendHook]:
    """Step 6, on every response start."""
    return [annotate_response, security_headers(proxies), options_allow_header()]
