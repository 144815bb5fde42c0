"""Idempotent routes: one database transaction per request, exactly-once answers per Idempotency-Key.

A route declared ``route_options(idempotent=True)`` runs as one transaction that every service
transaction inside it joins (:mod:`kami.db.transaction`):

- With an ``Idempotency-Key`` header, the key is claimed first, inside that transaction
  (:mod:`kami.db.idempotency`); a successful answer (2xx, code 0) is stored in the claim and committed
  with the work, and only then sent. A retry replays it (with its own trace id and time, marked
  ``Idempotent-Replayed: true``); a retry while the first attempt still runs is answered 409 / 4009 at
  once with ``Retry-After``; the same key with another request is 409 / 4008. A failure stores nothing,
  so the retry runs again; a first attempt that died before COMMIT released its claim with its
  connection, so the retry runs at once. Records are kept ``KAMI_DATABASE_IDEMPOTENCY_HOURS``.
- With or without a key, a transaction that loses a deadlock or a lock wait is run again, up to
  ``KAMI_DATABASE_LOCK_RETRIES`` times (the answer is held back until the commit, so nothing was sent),
  then answered 503 / 5005.

On other routes an ``Idempotency-Key`` is refused (422 / 3006) rather than silently ignored. The
body is read here, before the handler: never more of it than ``KAMI_SERVER_MAX_BODY_SIZE`` (an
announced larger body is refused before a byte of it is read). Keys belong to the caller (kami's one
rule, :func:`kami.security.identity.caller_of`) and the app.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from kami.codes import Codes
from kami.db.errors import DatabaseFailure, classify
from kami.db.idempotency import Claim, RecordKey, claim, complete, release
from kami.db.transaction import transaction
from kami.errors import ConflictError, ValidationError
from kami.pipeline.answers import Captured, KeptAnswer, capture, send_kept
from kami.pipeline.layer import Layer
from kami.routes import UNSAFE_METHODS, policy_of
from kami.security.identity import caller_of, identity_or_none
from kami.security.trusted_proxies import TrustedProxies
from kami.settings import Settings

__all__ = ["REPLAYED_HEADER", "IdempotencyMiddleware", "read_body"]

KEY_HEADER = b"idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
_REPLAYED = [(REPLAYED_HEADER.lower().encode(), b"true")]


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


class _Answered(Exception):  # noqa: N818 - carries the answer out of the transaction block
    def __init__(self, kept: KeptAnswer) -> None:
        self.kept = kept


class _NotKept(Exception):  # noqa: N818 - an answer that must not commit (not a success)
    def __init__(self, captured: Captured) -> None:
        self.captured = captured


class IdempotencyMiddleware(Layer):
    scopes = (ScopeType.HTTP,)

    def __init__(
        self, settings: Settings, proxies: TrustedProxies, session_of: Callable[[Scope], AsyncSession]
    ) -> None:
        self.max_body_size = settings.server.max_body_size
        self.retries = settings.database.lock_retries
        self.ttl = settings.database.idempotency_hours * 3600.0
        self.proxies = proxies
        self.session_of = session_of  # the request's session: the one its handler receives

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        method: str = scope.get("method", "GET")  # type: ignore[assignment]
        policy = policy_of(scope["route_handler"])
        key = dict(scope["headers"]).get(KEY_HEADER)
        if not policy.idempotent or method not in UNSAFE_METHODS:
            if key is not None and method in UNSAFE_METHODS:
                raise ValidationError(code=Codes.IDEMPOTENCY_NOT_SUPPORTED)
            await next_app(scope, receive, send)
            return
        if key is not None and policy.access is not None and identity_or_none(ASGIConnection(scope)) is None:
            await next_app(scope, receive, send)  # its guard answers 401: no key is taken for nobody
            return
        record: RecordKey | None = None
        body, messages = await read_body(scope, receive, self.max_body_size)
        if key is not None:
            text = key.decode("latin-1")
            if not 1 <= len(text) <= 255 or not text.isprintable():
                raise ValidationError("Idempotency-Key must be 1 to 255 printable characters")
            caller = caller_of(ASGIConnection(scope), self.proxies).key
            record = RecordKey.of(policy.app, caller, text, method, scope["path"], body)
        retries = self.retries
        for attempt in range(retries + 1):
            try:
                answer = await self._run_once(scope, messages, send, next_app, record)
            except Exception as exc:
                if attempt < retries and classify(exc) is DatabaseFailure.LOCK_CONFLICT:
                    await asyncio.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
                    continue
                raise
            break
        if isinstance(answer, Captured):
            await answer.send_to(send)
        else:
            await send_kept(answer, scope, send, _REPLAYED)

    async def _run_once(
        self,
        scope: Scope,
        messages: list[ReceiveMessage],
        send: Send,
        next_app: ASGIApp,
        record: RecordKey | None,
    ) -> Captured | KeptAnswer:
        """One attempt in one transaction: the captured answer to send, or a stored one to replay."""
        session = self.session_of(scope)
        replay = iter(messages)

        async def receive_again() -> Any:
            return next(replay, {"type": "http.disconnect"})

        ttl = self.ttl
        try:
            async with transaction(session):
                if record is not None:
                    outcome, found = await claim(session, record, ttl)
                    if outcome is Claim.IN_FLIGHT:
                        raise ConflictError(code=Codes.IDEMPOTENCY_IN_FLIGHT, headers={"Retry-After": "1"})
                    if outcome is Claim.ANSWERED and found is not None:
                        if found.fingerprint != record.fingerprint:
                            raise ConflictError(code=Codes.IDEMPOTENCY_KEY_REUSED)
                        raise _Answered(msgspec.json.decode(found.answer or b"", type=KeptAnswer))
                captured = await capture(next_app, scope, receive_again)
                kept = captured.kept()
                if kept is None:
                    raise _NotKept(captured)
                if record is not None:
                    await complete(session, record, kept.status, msgspec.json.encode(kept))
            return captured
        except _Answered as answered:
            return answered.kept
        except _NotKept as not_kept:
            return not_kept.captured
        finally:
            if record is not None:
                release(record)
