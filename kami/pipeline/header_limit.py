"""Refuse requests whose headers are larger than ``KAMI_SERVER_MAX_HEADER_SIZE`` (431 / 3004).

Granian accepts headers of any size; a limit keeps one client from making every worker parse and log
megabytes per request.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Receive, Scope, Send

from kami.pipeline.layer import Layer

__all__ = ["HeaderLimitMiddleware"]


class HeaderLimitMiddleware(Layer):
    scopes = (ScopeType.HTTP,)

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        size = sum(len(name) + len(value) + 4 for name, value in scope.get("headers", ()))
        if size > self.max_bytes:
            raise ClientException(
                status_code=431, detail=f"Request headers too large: {size} bytes, at most {self.max_bytes}"
            )
        await next_app(scope, receive, send)
