"""The caller's identity, read from ``Authorization: Bearer <access token>``, and the guards using it."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.connection import ASGIConnection, Request
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler

from kami.errors import AuthenticationError, KamiError, NotFoundError, PermissionDeniedError
from kami.routes import policy_of
from kami.runtime import runtime_of
from kami.security.trusted_proxies import TrustedProxies
from kami.store.flags import FeatureFlags

__all__ = [
    "Caller",
    "Identity",
    "caller_of",
    "current_identity",
    "identity_of",
    "identity_or_none",
    "provide_identity",
    "require_admin",
    "require_flag",
    "require_user",
    "requires_token",
]

_SCOPE_KEY = "kami_identity"


class Identity(msgspec.Struct, frozen=True):
    user_id: str
    role: str
    tier: str = "free"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def identity_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity | None:
    """The verified identity of the request, or ``None`` when it sent no token (raises on a bad one)."""
    if _SCOPE_KEY in connection.scope:
        return connection.scope[_SCOPE_KEY]  # type: ignore[literal-required,no-any-return]
    header = connection.headers.get("authorization", "")
    identity: Identity | None = None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("Authorization must be 'Bearer <token>'")
        signer = runtime_of(connection.app).signer
        claims = signer.verify(token.strip())
        identity = Identity(user_id=claims.sub, role=claims.role, tier=claims.tier)
    connection.scope[_SCOPE_KEY] = identity  # type: ignore[literal-required]
    return identity


def identity_or_none(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity | None:
    """The verified identity, or ``None`` for no token *and* for a bad one: for middleware that only
    needs to know who is calling (the route's guard still refuses a bad token with 401)."""
    try:
        return identity_of(connection)
    except KamiError:
        return None


class Caller(msgspec.Struct, frozen=True):
    """Who is calling, for what is counted or remembered per caller (rate limits, idempotency keys):
    ``key`` is ``user:{id}`` with a valid token, else ``ip:{address}``."""

    key: str
    tier: str | None = None


def caller_of(connection: ASGIConnection[Any, Any, Any, Any], proxies: TrustedProxies) -> Caller:
    """The one rule: the authenticated user, else the client address — the peer, or behind trusted
    proxies the address they report (a bad token counts by address; the route's guard refuses it)."""
    identity = identity_or_none(connection)
    if identity is not None:
        return Caller(f"user:{identity.user_id}", identity.tier)
    return Caller(f"ip:{proxies.client_address(connection.scope)}")


def current_identity(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity:
    identity = identity_of(connection)
    if identity is None:
        raise AuthenticationError()
    return identity


# Guards are coroutines: Litestar runs a plain-function guard in a worker thread (a thread hand-off
# per request for a check that takes microseconds).
async def require_user(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    current_identity(connection)


async def require_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not current_identity(connection).is_admin:
        raise PermissionDeniedError()


def require_flag(name: str) -> Any:
    """A guard: the route answers 404 (as if it did not exist) unless the flag allows this caller."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        identity = identity_or_none(connection)
        flags = FeatureFlags(runtime_of(connection.app).backend)
        app = policy_of(handler).app
        if not await flags.is_enabled(name, app=app, caller=identity.user_id if identity else None):
            raise NotFoundError("Not found")

    return guard


async def _provide(request: Request[Any, Any, Any]) -> Identity:
    return current_identity(request)


provide_identity = Provide(_provide)


def requires_token(handler: BaseRouteHandler) -> bool:
    """Whether the route answers 401 without an access token: it has a guard that needs the caller, or
    its handler receives the ``identity`` dependency (read from the declarations, at startup)."""
    guards = set(handler.resolve_guards())
    if guards & {require_user, require_admin}:
        return True
    parameter = handler.parsed_fn_signature.parameters.get("identity")
    return parameter is not None and parameter.annotation is Identity
