"""Idempotency keys for unsafe requests: a retry with the same ``Idempotency-Key`` gets the first
response, and the operation runs once, even when retries race (the first claims the key atomically;
the others wait for its answer). Records live 24 h in the shared store under
``idem:{app}:{caller}:{key}`` (the caller by kami's one rule, :func:`kami.security.identity.caller_of`).
A 5xx answer is not recorded, so the client may retry it.

The body is read here, before the handler, to fingerprint the request: never more of it than
``KAMI_SERVER_MAX_BODY_SIZE`` (an announced larger body is refused before a byte of it is read).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import msgspec
import structlog
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send
from redis.exceptions import RedisError

from kami.codes import Codes
from kami.errors import CacheUnavailableError, ConflictError, ValidationError
from kami.routes import policy_of
from kami.runtime import runtime_of
from kami.security.identity import caller_of
from kami.security.trusted_proxies import TrustedProxies
from kami.store.backend import Backend

__all__ = ["IDEMPOTENCY_TTL", "IdempotencyMiddleware", "read_body"]

log = structlog.get_logger("kami.pipeline.idempotency")
IDEMPOTENCY_TTL = 24 * 3600.0
PENDING_TTL = 60.0
WAIT_FOR_FIRST = 15.0
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _Record(msgspec.Struct):
    fingerprint: str
    status: int = 0
    headers: list[tuple[str, str]] = msgspec.field(default_factory=list)
    body: bytes = b""

    @property
    def done(self) -> bool:
        return self.status != 0


async def read_body(scope: Scope, receive: Receive, limit: int) -> tuple[bytes, list[ReceiveMessage]]:
    """The request body and the messages it came in (to hand on to the app), refusing with 413 a body
    announced or found to be over ``limit`` bytes — before buffering it."""
    announced = dict(scope["headers"]).get(b"content-length")
    if announced is not None and announced.isdigit() and int(announced) > limit:
        raise RequestEntityTooLarge(f"Request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    messages: list[ReceiveMessage] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestEntityTooLarge(f"Request body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


class IdempotencyMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, max_body_size: int, proxies: TrustedProxies) -> None:
        self.max_body_size = max_body_size
        self.proxies = proxies

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        key = dict(scope["headers"]).get(b"idempotency-key")
        method: str = scope.get("method", "GET")  # type: ignore[assignment]
        if key is None or method not in UNSAFE:
            await next_app(scope, receive, send)
            return
        if not 1 <= len(key) <= 255:
            raise ValidationError("Idempotency-Key must be 1 to 255 characters")
        body, messages = await read_body(scope, receive, self.max_body_size)
        replay = iter(messages)

        async def receive_again() -> Any:
            return next(replay, {"type": "http.disconnect"})

        fingerprint = hashlib.sha256(method.encode() + scope["path"].encode() + b"\0" + body).hexdigest()
        backend = runtime_of(scope["app"]).backend
        app = policy_of(scope["route_handler"]).app
        caller = caller_of(ASGIConnection(scope), self.proxies)
        record_key = f"idem:{app}:{caller.key}:{key.decode(errors='replace')}"
        try:
            claimed = await backend.set(
                record_key, msgspec.msgpack.encode(_Record(fingerprint)), ttl=PENDING_TTL, only_if_absent=True
            )
        except (RedisError, OSError) as exc:
            log.warning("idempotency store unavailable", error=type(exc).__name__)
            raise CacheUnavailableError("Idempotency keys cannot be honoured right now, retry later") from exc
        if not claimed:
            await self._replay(backend, record_key, fingerprint, send)
            return
        await self._run_and_record(backend, record_key, fingerprint, scope, receive_again, send, next_app)

    async def _run_and_record(
        self,
        backend: Backend,
        record_key: str,
        fingerprint: str,
        scope: Scope,
        receive: Receive,
        send: Send,
        next_app: ASGIApp,
    ) -> None:
        record = _Record(fingerprint)

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                record.headers = [(k.decode(), v.decode()) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                record.body += message.get("body", b"")
            await send(message)

        try:
            await next_app(scope, receive, capture)
        except BaseException:
            await backend.delete(record_key)
            raise
        if record.status >= 500:
            await backend.delete(record_key)
        else:
            await backend.set(record_key, msgspec.msgpack.encode(record), ttl=IDEMPOTENCY_TTL)

    async def _replay(self, backend: Backend, record_key: str, fingerprint: str, send: Send) -> None:
        deadline = time.monotonic() + WAIT_FOR_FIRST
        while True:
            raw = await backend.get(record_key)
            if raw is None:  # the first attempt failed (5xx) and released the key
                raise ConflictError("The first request with this Idempotency-Key failed; retry it")
            record = msgspec.msgpack.decode(raw, type=_Record)
            if record.fingerprint != fingerprint:
                raise ConflictError(code=Codes.IDEMPOTENCY_KEY_REUSED)
            if record.done:
                break
            if time.monotonic() > deadline:
                raise ConflictError("A request with this Idempotency-Key is still in progress")
            await asyncio.sleep(0.02)
        headers: list[tuple[bytes, bytes]] = [(k.encode(), v.encode()) for k, v in record.headers]
        headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": record.status, "headers": headers})
        await send({"type": "http.response.body", "body": record.body, "more_body": False})
