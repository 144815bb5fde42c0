"""Shed load instead of queueing it: at most ``KAMI_SERVER_MAX_IN_FLIGHT`` app requests per worker.

Past capacity, every extra request waits its turn for the database pool and the event loop, and all of
them get slow together (1,500 connections of list queries on one worker left 40% waiting past 2 s). A
request beyond the limit is answered 503 / 5006 with ``Retry-After`` at once, so the admitted ones keep
their latency and a client or load balancer can retry elsewhere. Only the apps' routes count and are
refused (this layer is the first of :func:`kami.pipeline.order.app_route_middleware`): health probes,
metrics and the docs always answer.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from kami.codes import Codes
from kami.errors import KamiError
from kami.observability.events import events
from kami.pipeline.layer import Layer
from kami.routes import policy_of

__all__ = ["AdmissionMiddleware"]

RETRY_AFTER_SECONDS = "1"


class AdmissionMiddleware(Layer):
    scopes = (ScopeType.HTTP,)

    def __init__(self, limit: int) -> None:
        self.limit = limit  # 0: no limit
        self.in_flight = 0  # this worker's admitted app requests (one event loop: no lock needed)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if self.limit and self.in_flight >= self.limit:
            events.increment("requests_shed", app=policy_of(scope["route_handler"]).app)
            raise KamiError(code=Codes.OVERLOADED, headers={"Retry-After": RETRY_AFTER_SECONDS})
        self.in_flight += 1
        try:
            await next_app(scope, receive, send)
        finally:
            self.in_flight -= 1
