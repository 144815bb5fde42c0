"""HEAD wherever GET: the GET answer's status and headers, without its content (RFC 9110, 9.3.2).

Litestar routes HEAD only to handlers declared for it, so every GET route answered HEAD with 405 and
monitors that probe with HEAD saw the service as broken. kami answers a HEAD request by running the
GET route and sending what it sends, minus the body: the same status, ``Content-Type`` and
``Content-Length``, the same envelope headers, the same rate limit. The request keeps saying HEAD
where it is reported: the access line and the span name read :func:`requested_method`.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HeadAsGet", "requested_method"]

_REQUESTED = "kami_requested_method"  # in the scope's state: the method the client sent, when kami changed it


def requested_method(scope: Scope) -> str:
    """The method the client sent (HEAD for a HEAD request served by its GET route)."""
    state = scope.get("state") or {}
    return str(state.get(_REQUESTED) or scope.get("method", ""))


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})[_REQUESTED] = "HEAD"  # type: ignore[typeddict-item]
        scope["method"] = "GET"  # type: ignore[typeddict-unknown-key]

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # a streamed body: nothing of it is sent
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, receive, headers_only)
