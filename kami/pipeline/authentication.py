"""Reads the request's credentials once, before anything counts or remembers per caller.

``Authorization: Bearer <access token>``: the token's signature and expiry, then its session in the
shared store (one read; see :mod:`kami.security.sessions`) — a logged-out, revoked or deactivated
session is refused even while its token has not expired, and the role, tier and permissions are the
account's current ones. ``X-API-Key: kami_<id>_<secret>``: the key (:mod:`kami.security.api_keys`).
A request sends one or the other. The outcome (an identity, the error to answer, or nothing) is left in the
scope: a route that needs a caller answers the error, one that does not serves an anonymous caller.
When the store cannot be reached, credentials cannot be checked: such routes answer 503 (closed, not
open).
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from redis.exceptions import RedisError

from kami.codes import Codes
from kami.errors import AuthenticationError, CacheUnavailableError, KamiError
from kami.runtime import runtime_of
from kami.security.api_keys import API_KEY_HEADER
from kami.security.identity import Credentials, remember_credentials

__all__ = ["AuthenticationMiddleware"]

log = structlog.get_logger("kami.pipeline.authentication")


class AuthenticationMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        remember_credentials(connection, await _credentials(connection))
        await next_app(scope, receive, send)


async def _credentials(connection: ASGIConnection[Any, Any, Any, Any]) -> Credentials:
    header = connection.headers.get("authorization", "")
    api_key = connection.headers.get(API_KEY_HEADER, "")
    if api_key and header:
        return AuthenticationError("Send an access token or an API key, not both")
    runtime = runtime_of(connection.app)
    if api_key:
        try:
            return await runtime.api_keys.authenticate(api_key.strip())
        except KamiError as exc:
            return exc
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return AuthenticationError("Authorization must be 'Bearer <token>'")
    try:
        claims = runtime.signer.verify(token.strip())
        record = await runtime.login_sessions.find(claims.sid)
        if record is None or record.user_id != claims.sub:
            return AuthenticationError(code=Codes.SESSION_ENDED)
        await runtime.login_sessions.touch(
            record
        )  # at most one write a minute; losing a race to another is fine
    except KamiError as exc:
        return exc
    except (RedisError, OSError) as exc:
        log.warning("sessions unavailable: credentials not checked", error=type(exc).__name__)
        return CacheUnavailableError("Credentials cannot be checked right now, retry later")
    return record.identity()
