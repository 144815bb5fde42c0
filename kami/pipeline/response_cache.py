"""HTTP response caching for GET routes that declare ``route_options(cache=ResponseCache(ttl=...))``.

Unlike Litestar's built-in response cache, a hit gets a fresh envelope ``trace_id`` and ``timestamp``
(only ``code``, ``message`` and ``data`` are stored), an ``ETag`` over exactly those, and 304 for a
matching ``If-None-Match``. ``ResponseCache.tags`` names tags that writes invalidate through
:meth:`kami.store.cache.Cache.invalidate`; ``personal`` keys the entry per caller. Only successes
(HTTP 200 and code 0) are stored, in the owning app's namespace (``{app}:cache:http:...``).
"""

from __future__ import annotations

import hashlib

import msgspec
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from kami.pipeline.answers import Captured, KeptAnswer, capture, send_kept
from kami.pipeline.layer import Layer
from kami.routes import policy_of
from kami.security.identity import identity_or_none
from kami.store.backend import Backend
from kami.store.cache import Cache
from kami.store.namespace import Store

__all__ = ["ResponseCacheMiddleware"]


class _Stored(msgspec.Struct):
    answer: KeptAnswer
    etag: str


class _Uncacheable(Exception):  # noqa: N818 - a control-flow signal, not an error
    def __init__(self, captured: Captured) -> None:
        self.captured = captured


class ResponseCacheMiddleware(Layer):
    scopes = (ScopeType.HTTP,)

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        policy = policy_of(scope["route_handler"])
        declared = policy.cache
        if declared is None or scope.get("method") != "GET":  # HEAD arrives as GET (kami.pipeline.head)
            await next_app(scope, receive, send)
            return
        ttl = declared.ttl
        cache = Cache(Store(self.backend, policy.app))
        key = (
            "http:"
            + hashlib.sha256(scope["path"].encode() + b"?" + scope.get("query_string", b"")).hexdigest()
        )
        if declared.personal:
            identity = identity_or_none(ASGIConnection(scope))
            key += f":{identity.user_id if identity else 'anonymous'}"

        async def compute() -> _Stored:
            captured = await capture(next_app, scope, receive)
            kept = captured.kept() if captured.status == 200 else None
            if kept is None:  # errors, and business failures answered with HTTP 200
                raise _Uncacheable(captured)
            fingerprint = msgspec.json.encode([kept.code, kept.message, kept.data])
            return _Stored(kept, '"' + hashlib.sha256(fingerprint).hexdigest()[:32] + '"')

        try:
            stored = await cache.get_or_compute(
                key, compute, decode_as=_Stored, ttl=float(ttl), tags=declared.tags
            )
        except _Uncacheable as uncacheable:
            await uncacheable.captured.send_to(send)
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
        await send_kept(stored.answer, scope, send, headers)
