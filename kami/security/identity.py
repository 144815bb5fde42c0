"""The caller's identity and the guards using it: one access model for every credential.

:class:`kami.pipeline.authentication.AuthenticationMiddleware` reads the credentials once per request
(on the apps' routes) and leaves the outcome in the scope; everything after it reads it from there.

A credential carries exactly what it lists. A route that needs a caller says what: a permission
(:func:`require`), which a person's session and an API key reach alike when they hold it; or an
operation on the caller's own account (:func:`own_account`), which only a person signed in may do,
never a key — there is no "signed in is enough" route. Start-up reads the guards of every route into
its :class:`kami.routes.Access` and refuses a route that takes the caller but asks for nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar.connection import ASGIConnection, Request
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler

from kami.codes import Codes
from kami.errors import AuthenticationError, KamiError, PermissionDeniedError
from kami.routes import Access, RouteDeclarationError
from kami.security.permissions import EVERYTHING, Permission, PermissionCatalog
from kami.security.trusted_proxies import TrustedProxies

__all__ = [
    "Caller",
    "Credentials",
    "Identity",
    "OwnAccountGuard",
    "PermissionGuard",
    "caller_of",
    "current_identity",
    "identity_of",
    "identity_or_none",
    "own_account",
    "provide_identity",
    "remember_credentials",
    "require",
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
    fresh: bool = False  # a session whose password was given within the re-authentication window

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


def caller_of(
    connection: ASGIConnection[Any, Any, Any, Any],
    proxies: TrustedProxies,
    *,
    counted_by_address: bool = False,
) -> Caller:
    """The one rule: the authenticated user, else the client address — the peer, or behind trusted
    proxies the address they report (a bad token counts by address; the route's guard refuses it).
    ``counted_by_address``: the address whatever the credentials (routes anybody may call)."""
    identity = None if counted_by_address else identity_or_none(connection)
    if identity is not None:
        who = f"key:{identity.api_key}" if identity.api_key else f"user:{identity.user_id}"
        return Caller(who, identity.tier)
    return Caller(f"ip:{proxies.client_address(connection.scope)}")


def current_identity(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity:
    identity = identity_of(connection)
    if identity is None:
        raise AuthenticationError()
    return identity


# Guards are coroutines (``__call__``): Litestar runs a plain-function guard in a worker thread (a
# thread hand-off per request for a check that takes microseconds).
class OwnAccountGuard:
    """The guard :func:`own_account` builds: a person signed in, acting on their own account."""

    def __init__(self, recent_login: bool) -> None:
        self.recent_login = recent_login

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        identity = current_identity(connection)
        if identity.api_key or not identity.session_id:
            raise PermissionDeniedError(code=Codes.PERSON_ONLY)
        if self.recent_login and not identity.fresh:
            raise PermissionDeniedError(code=Codes.REAUTHENTICATE)

    def __repr__(self) -> str:
        return f"own_account(recent_login={self.recent_login})"


def own_account(*, recent_login: bool = False) -> OwnAccountGuard:
    """A route guard for an operation on the caller's own account: 401 without valid credentials,
    403 / 1008 for an API key, and with ``recent_login`` 403 / 1009 unless the password was given
    within the re-authentication window (``KAMI_SECURITY_REAUTHENTICATE_SECONDS``)."""
    return OwnAccountGuard(recent_login)


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


def route_access(catalog: PermissionCatalog) -> Callable[[BaseRouteHandler], Access | None]:
    """What a route asks of its caller, read from its guards once, at start-up, into its policy
    (``RoutePolicy.access``): None when anybody may call it, else its :class:`Access`. A guard naming a
    permission no mounted app declares, and a handler that takes ``identity`` while its guards ask for
    nothing, stop the start-up."""
    declared = set(catalog.declared.values())

    def access(handler: BaseRouteHandler) -> Access | None:
        guards = handler.resolve_guards()
        required = [g.permission for g in guards if isinstance(g, PermissionGuard)]
        undeclared = [p.action for p in required if p not in declared]
        if undeclared:
            raise RouteDeclarationError(
                f"require({', '.join(undeclared)}) names a permission no mounted app declares"
            )
        own = [g for g in guards if isinstance(g, OwnAccountGuard)]
        parameter = handler.parsed_fn_signature.parameters.get("identity")
        takes_identity = parameter is not None and parameter.annotation is Identity
        if not required and not own:
            if takes_identity:
                raise RouteDeclarationError(
                    "takes `identity` but asks its caller for nothing: guard it with require(PERMISSION) "
                    "(or own_account() for an operation on the caller's own account)"
                )
            return None
        return Access(
            permissions=tuple(p.name for p in required),
            own_account=bool(own),
            recent_login=any(g.recent_login for g in own),
        )

    return access
