"""Every app request has a deadline: ``KAMI_SERVER_REQUEST_TIMEOUT``, or the route's own
(``route_options(deadline=...)``, resolved at start-up into its :class:`kami.routes.RoutePolicy`).

Past it the request's work is cancelled — the handler, its database statements (the connection in use
is discarded, not given back half-way through a reply) and its transaction, which rolls back — and the
client gets 504 / 5007 instead of waiting on. Granian has no per-request timeout of its own, so without
this a stuck dependency held a worker's request slot for as long as the client waited.

``asyncio.timeout`` cancels once (edge-triggered), so cleanup code in the handler's ``finally`` blocks
and dependencies still runs to the end. An answer that already started streaming cannot become a 504:
it is cut short and counted.
"""

from __future__ import annotations

import asyncio

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from kami.codes import Codes
from kami.errors import KamiError
from kami.observability.events import events
from kami.pipeline.layer import Layer
from kami.routes import policy_of

__all__ = ["DeadlineMiddleware"]


class DeadlineMiddleware(Layer):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        policy = policy_of(scope["route_handler"])
        if policy.deadline is None:
            await next_app(scope, receive, send)
            return
        started = False

        async def watch_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        timer = asyncio.timeout(policy.deadline)
        try:
            async with timer:
                await next_app(scope, receive, watch_start)
        except TimeoutError:
            if not timer.expired():
                raise  # a TimeoutError of the work itself (a connect timeout...), not the deadline
            events.increment("requests_past_deadline", app=policy.app)
            if started:
                return  # the answer had begun: it ends short
            raise KamiError(code=Codes.DEADLINE_EXCEEDED) from None
