"""The caller's identity and the guards using it.

:class:`kami.pipeline.authentication.AuthenticationMiddleware` reads the credentials once per request
(on the apps' routes) and leaves the outcome in the scope; everything after it reads it from there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar.connection import ASGIConnection, Request
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler

from kami.errors import AuthenticationError, KamiError, PermissionDeniedError
from kami.routes import RouteDeclarationError
from kami.security.permissions import EVERYTHING, Permission, PermissionCatalog
from kami.security.trusted_proxies import TrustedProxies

__all__ = [
    "Caller",
    "Credentials",
    "Identity",
    "PermissionGuard",
    "caller_of",
    "current_identity",
    "identity_of",
    "identity_or_none",
    "provide_identity",
    "remember_credentials",
    "require",
    "require_user",
    "route_access",
]

_SCOPE_KEY = "kami_identity"


class Identity(msgspec.Struct, frozen=True):
    """Who is calling, as of the account's latest change (read from its session, not from the token)."""

    user_id: str
    role: str
    tier: str = "free"
    permissions: frozenset[str] = frozenset()
    session_id: str = ""  # the login session, for a bearer token
    api_key: str = ""  # the key's id, for an API key

    def can(self, permission: Permission) -> bool:
        return self.holds(permission.name)

    def holds(self, name: str) -> bool:
        """Whether the caller has the permission named ``name`` (``app:action``)."""
        return EVERYTHING in self.permissions or name in self.permissions


Credentials = Identity | KamiError | None
"""What the authentication step found: an identity, the error to answer if one is needed, or nothing."""


def remember_credentials(connection: ASGIConnection[Any, Any, Any, Any], found: Credentials) -> None:
    connection.scope[_SCOPE_KEY] = found  # type: ignore[literal-required]


def identity_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity | None:
    """The verified identity of the request, or ``None`` when it sent no credentials (raises on bad
    ones). Only the apps' routes authenticate: on kami's own it is always ``None``."""
    found: Credentials = connection.scope.get(_SCOPE_KEY)  # type: ignore[assignment]
    if isinstance(found, KamiError):
        raise found
    return found


def identity_or_none(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity | None:
    """The verified identity, or ``None`` for no token *and* for a bad one: for middleware that only
    needs to know who is calling (the route's guard still refuses a bad token with 401)."""
    try:
        return identity_of(connection)
    except KamiError:
        return None


class Caller(msgspec.Struct, frozen=True):
    """Who is calling, for what is counted or remembered per caller (rate limits, idempotency keys):
    ``key`` is ``key:{id}`` with a valid API key, ``user:{id}`` with a valid token, else ``ip:{address}``."""

    key: str
    tier: str | None = None


def caller_of(connection: ASGIConnection[Any, Any, Any, Any], proxies: TrustedProxies) -> Caller:
    """The one rule: the authenticated user, else the client address — the peer, or behind trusted
    proxies the address they report (a bad token counts by address; the route's guard refuses it)."""
    identity = identity_or_none(connection)
    if identity is not None:
        who = f"key:{identity.api_key}" if identity.api_key else f"user:{identity.user_id}"
        return Caller(who, identity.tier)
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


class PermissionGuard:
    """The guard :func:`require` builds; start-up reads ``permission`` to check some app declares it."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if not current_identity(connection).can(self.permission):
            raise PermissionDeniedError(f"This needs the permission {self.permission.name}")

    def __repr__(self) -> str:
        return f"require({self.permission.name})"


def require(permission: Permission) -> PermissionGuard:
    """A route guard: 401 without valid credentials, 403 unless the caller holds ``permission``."""
    return PermissionGuard(permission)


async def _provide(request: Request[Any, Any, Any]) -> Identity:
    return current_identity(request)


provide_identity = Provide(_provide)


def route_access(catalog: PermissionCatalog) -> Callable[[BaseRouteHandler], list[str] | None]:
    """What a route asks of its caller, read from its declarations once, at start-up, into its policy
    (``RoutePolicy.access``): None when anybody may call it; else the permissions it needs (none beyond
    valid credentials: ``[]``). A route needs credentials when a guard asks for a caller or a
    permission, or its handler takes ``identity``. A guard naming a permission no mounted app declares
    stops the start-up."""
    declared = set(catalog.declared.values())

    def access(handler: BaseRouteHandler) -> list[str] | None:
        guards = handler.resolve_guards()
        required = [g.permission for g in guards if isinstance(g, PermissionGuard)]
        undeclared = [p.action for p in required if p not in declared]
        if undeclared:
            raise RouteDeclarationError(
                f"require({', '.join(undeclared)}) names a permission no mounted app declares"
            )
        parameter = handler.parsed_fn_signature.parameters.get("identity")
        takes_identity = parameter is not None and parameter.annotation is Identity
        if required or require_user in guards or takes_identity:
            return [p.name for p in required]
        return None

    return access
