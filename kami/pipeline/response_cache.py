"""HTTP response caching for GET routes that declare ``route_options(cache=ResponseCache(ttl=...))``.

Unlike Litestar's built-in response cache, a hit gets a fresh envelope ``trace_id`` and ``timestamp``
(only ``code``, ``message`` and ``data`` are stored), an ``ETag`` over exactly those, and 304 for a
matching ``If-None-Match``. ``ResponseCache.tags`` names tags that writes invalidate through
:meth:`kami.store.cache.Cache.invalidate`; ``personal`` keys the entry per caller. Only successes
(HTTP 200 and code 0) are stored, in the owning app's namespace (``{app}:cache:http:...``).
"""

from __future__ import annotations

import gzip
import hashlib

import msgspec
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from kami.envelope import ApiResponse, now
from kami.observability.trace_context import current_trace_id
from kami.routes import policy_of
from kami.runtime import runtime_of
from kami.security.identity import identity_or_none
from kami.store.cache import Cache
from kami.store.namespace import Store

__all__ = ["ResponseCacheMiddleware"]


GZIP_MINIMUM = 1024  # as the app's own compression: responses over 1 KB, level 6


class _Stored(msgspec.Struct):
    code: int
    message: str
    data: msgspec.Raw
    etag: str


class _Uncacheable(Exception):  # noqa: N818 - a control-flow signal, not an error
    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages


async def _capture(next_app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list[Message], bytes]:
    messages: list[Message] = []
    body = b""
    status = 0

    async def collect(message: Message) -> None:
        nonlocal body, status
        messages.append(message)
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")

    await next_app(scope, receive, collect)
    if status != 200:
        return status, messages, body
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    if start is not None and (b"content-encoding", b"gzip") in list(start.get("headers", [])):
        body = gzip.decompress(body)  # stored plain: a hit re-encodes it with a fresh trace id
    return status, messages, body


class ResponseCacheMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        policy = policy_of(scope["route_handler"])
        declared = policy.cache
        if declared is None or scope.get("method") not in ("GET", "HEAD"):
            await next_app(scope, receive, send)
            return
        ttl = declared.ttl
        cache = Cache(Store(runtime_of(scope["app"]).backend, policy.app))
        key = (
            "http:"
            + hashlib.sha256(scope["path"].encode() + b"?" + scope.get("query_string", b"")).hexdigest()
        )
        if declared.personal:
            identity = identity_or_none(ASGIConnection(scope))
            key += f":{identity.user_id if identity else 'anonymous'}"

        async def compute() -> _Stored:
            status, messages, body = await _capture(next_app, scope, receive)
            fields = msgspec.json.decode(body) if status == 200 else {}
            if fields.get("code") != 0:  # errors, and business failures answered with HTTP 200
                raise _Uncacheable(messages)
            etag = (
                '"'
                + hashlib.sha256(
                    msgspec.json.encode([fields["code"], fields["message"], fields["data"]])
                ).hexdigest()[:32]
                + '"'
            )
            return _Stored(
                fields["code"], fields["message"], msgspec.Raw(msgspec.json.encode(fields["data"])), etag
            )

        try:
            stored = await cache.get_or_compute(
                key, compute, decode_as=_Stored, ttl=float(ttl), tags=declared.tags
            )
        except _Uncacheable as uncacheable:
            for message in uncacheable.messages:
                await send(message)
            return
        private = "private" if declared.personal else "public"
        headers = [
            (b"etag", stored.etag.encode()),
            (b"cache-control", f"{private}, max-age={int(ttl)}".encode()),
            (b"vary", b"Authorization" if declared.personal else b"Accept-Encoding"),
        ]
        if_none_match = dict(scope["headers"]).get(b"if-none-match", b"").decode()
        if stored.etag in {tag.strip() for tag in if_none_match.split(",")}:
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        envelope = ApiResponse(
            code=stored.code,
            message=stored.message,
            data=stored.data,
            trace_id=current_trace_id(),
            timestamp=now(),
        )
        body = msgspec.json.encode(envelope)
        if len(body) >= GZIP_MINIMUM and b"gzip" in dict(scope["headers"]).get(b"accept-encoding", b""):
            body = gzip.compress(body, compresslevel=6)
            headers.append((b"content-encoding", b"gzip"))
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {
                "type": "http.response.body",
                "body": b"" if scope.get("method") == "HEAD" else body,
                "more_body": False,
            }
        )
