"""The platform's identity provider: what every app's authentication and permissions come from.

Built once per process (``create_app``, or a command of the command line) from the settings, the store,
the one database session factory and the permissions the mounted apps declare. It checks the
credentials of each request (:meth:`IdentityProvider.credentials`, which the authentication layer is
given at start-up) and gives the identity slice's routes their services.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import structlog
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from kami.accounts.account_service import AccountService
from kami.accounts.api_keys import API_KEY_HEADER, ApiKeys, SessionFactory
from kami.accounts.key_service import ApiKeyService
from kami.accounts.login_service import LoginService
from kami.accounts.recovery_service import RecoveryService
from kami.accounts.role_service import RoleService
from kami.accounts.sessions import LoginSessions
from kami.accounts.slice import ACCOUNTS_APP
from kami.app_spec import AppSpec
from kami.codes import Codes
from kami.db.audit import AuditTrail
from kami.errors import AuthenticationError, CacheUnavailableError, KamiError
from kami.jobs.runner import Jobs
from kami.security.identity import Credentials
from kami.security.permissions import PermissionCatalog
from kami.security.tokens import TokenSigner
from kami.settings import Settings
from kami.store.backend import Backend
from kami.store.namespace import Store

__all__ = ["IdentityProvider"]

log = structlog.get_logger("kami.accounts")


@dataclass(frozen=True)
class IdentityProvider:
    signer: TokenSigner
    sessions: LoginSessions  # what every token belongs to: checked on each authenticated request
    keys: ApiKeys  # service clients' keys (database, with a copy in the store)
    catalog: PermissionCatalog  # what the mounted apps declare; the built-in roles
    store: Store  # the platform's namespace: one-time links, failed-login counts, spent refresh tokens
    tiers: frozenset[str]  # the rate-limit tiers an account may be given
    reauthenticate_after: float  # seconds a given password keeps a session fresh (a "sudo" window)
    refresh_grace: float  # seconds a replaced refresh token still gets the tokens that replaced it

    @classmethod
    def build(
        cls, settings: Settings, backend: Backend, sessions: SessionFactory, catalog: PermissionCatalog
    ) -> IdentityProvider:
        security = settings.security
        return cls(
            signer=TokenSigner(
                security.secret_key,
                issuer=settings.app.name,
                audience=settings.app.name,
                access_ttl=security.access_token_seconds,
                refresh_ttl=security.refresh_token_seconds,
            ),
            sessions=LoginSessions(
                backend, security.refresh_token_seconds, max_lifetime=security.session_max_seconds
            ),
            keys=ApiKeys(backend, sessions, catalog),
            catalog=catalog,
            store=Store(backend, ACCOUNTS_APP.name),
            tiers=settings.ratelimit.tier_names,
            reauthenticate_after=float(security.reauthenticate_seconds),
            refresh_grace=float(security.refresh_grace_seconds),
        )

    async def credentials(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Credentials:
        """What the request's credentials are worth: an identity, the error to answer if the route
        needs a caller, or nothing. ``Authorization: Bearer <access token>``: the token's signature and
        expiry, then its session (one store read): a logged-out, revoked or deactivated session is
        refused while its token lives, and the role, tier and permissions are the account's current
        ones. ``X-API-Key``: the key. When the store cannot be reached, a session cannot be checked:
        503, closed and not open."""
        header = connection.headers.get("authorization", "")
        api_key = connection.headers.get(API_KEY_HEADER, "")
        if api_key and header:
            return AuthenticationError("Send an access token or an API key, not both")
        if api_key:
            try:
                return await self.keys.authenticate(api_key.strip())
            except KamiError as exc:
                return exc
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return AuthenticationError("Authorization must be 'Bearer <token>'")
        try:
            claims = self.signer.verify(token.strip())
            record = await self.sessions.find(claims.sid)
            if record is None or record.user_id != claims.sub:
                return AuthenticationError(code=Codes.SESSION_ENDED)
            await self.sessions.touch(record)  # at most one write a minute; losing a race is fine
        except KamiError as exc:
            return exc
        except (RedisError, OSError) as exc:
            log.warning("sessions unavailable: credentials not checked", error=type(exc).__name__)
            return CacheUnavailableError("Credentials cannot be checked right now, retry later")
        return record.identity(self.reauthenticate_after)

    def slice(self) -> AppSpec:
        """The identity slice, its routes given their services by this provider."""
        return replace(ACCOUNTS_APP, dependencies=self._dependencies())

    def role_service(self, session: AsyncSession, audit: AuditTrail) -> RoleService:
        return RoleService(session, self.catalog, self.sessions, audit, self.keys.forget_account)

    def account_service(
        self, session: AsyncSession, audit: AuditTrail, recovery: RecoveryService | None
    ) -> AccountService:
        roles = self.role_service(session, audit)
        return AccountService(session, self.sessions, roles, audit, self.keys, self.tiers, recovery)

    def _dependencies(self) -> dict[str, Provide]:
        async def roles(
            db_session: NamedDependency[AsyncSession], audit: NamedDependency[AuditTrail]
        ) -> RoleService:
            return self.role_service(db_session, audit)

        async def recovery(
            db_session: NamedDependency[AsyncSession],
            audit: NamedDependency[AuditTrail],
            jobs: NamedDependency[Jobs],
            client_address: NamedDependency[str],
        ) -> RecoveryService:
            return RecoveryService(
                db_session, self.store, jobs, self.sessions, self.keys, audit, client_address
            )

        async def accounts(
            db_session: NamedDependency[AsyncSession],
            audit: NamedDependency[AuditTrail],
            recovery_service: NamedDependency[RecoveryService],
        ) -> AccountService:
            return self.account_service(db_session, audit, recovery_service)

        async def logins(
            db_session: NamedDependency[AsyncSession], audit: NamedDependency[AuditTrail]
        ) -> LoginService:
            roles = self.role_service(db_session, audit)
            return LoginService(
                db_session, self.store, self.signer, self.sessions, roles, audit, self.refresh_grace
            )

        async def keys(
            db_session: NamedDependency[AsyncSession], audit: NamedDependency[AuditTrail]
        ) -> ApiKeyService:
            return ApiKeyService(db_session, self.keys, self.catalog, audit)

        return {
            "role_service": Provide(roles),
            "recovery_service": Provide(recovery),
            "account_service": Provide(accounts),
            "login_service": Provide(logins),
            "key_service": Provide(keys),
        }
