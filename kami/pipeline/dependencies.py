"""What handlers receive by dependency injection, by name: kami's own dependencies and the services
apps export (``AppSpec.exports``). The store, cache and flags are the calling app's own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.stores.base import Store as LitestarStore
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from kami.app_spec import AppLoadError, AppSpec, exported_services
from kami.db.audit import AuditContext, AuditTrail
from kami.db.config import DB_SESSION_KEY
from kami.db.pagination import provide_page_params
from kami.envelope import current_trace_id
from kami.jobs import Jobs, Mailer
from kami.routes import policy_of
from kami.runtime import runtime_of
from kami.security.api_keys import ApiKeys
from kami.security.identity import identity_or_none, provide_identity
from kami.security.permissions import PermissionCatalog
from kami.security.sessions import LoginSessions
from kami.security.tokens import TokenSigner
from kami.store.cache import Cache
from kami.store.flags import FeatureFlags
from kami.store.namespace import Store

__all__ = ["dependencies", "session_store"]


def _store(request: Request[Any, Any, Any]) -> Store:
    """The calling app's namespace (``{app}:...``); platform routes get ``kami``."""
    return Store(runtime_of(request.app).backend, policy_of(request.route_handler).app)


def _cache(request: Request[Any, Any, Any]) -> Cache:
    return Cache(_store(request))


def _flags(request: Request[Any, Any, Any]) -> FeatureFlags:
    return FeatureFlags(runtime_of(request.app).backend)


def _token_signer(request: Request[Any, Any, Any]) -> TokenSigner:
    return runtime_of(request.app).signer


def _jobs(request: Request[Any, Any, Any]) -> Jobs:
    return runtime_of(request.app).jobs


def _login_sessions(request: Request[Any, Any, Any]) -> LoginSessions:
    return runtime_of(request.app).login_sessions


def _mailer(request: Request[Any, Any, Any]) -> Mailer:
    runtime = runtime_of(request.app)
    return Mailer(runtime.jobs, request.app, runtime.settings.mail.link_base.rstrip("/"))


def _api_keys(request: Request[Any, Any, Any]) -> ApiKeys:
    return runtime_of(request.app).api_keys


def _permission_catalog(request: Request[Any, Any, Any]) -> PermissionCatalog:
    return runtime_of(request.app).permissions


def _rate_tiers(request: Request[Any, Any, Any]) -> frozenset[str]:
    """The tiers an account may be given: those ``KAMI_RATELIMIT_TIERS`` names, and ``free``."""
    return runtime_of(request.app).settings.ratelimit.tier_names


async def _audit(db_session: NamedDependency[AsyncSession], request: Request[Any, Any, Any]) -> AuditTrail:
    """The audit trail on the request's session: events commit with the change they record, and carry
    the caller (an account id, or ``anonymous``), address, user agent and trace id."""
    identity = identity_or_none(request)
    context = AuditContext(
        actor=identity.user_id if identity else "anonymous",
        address=_client_address(request),
        user_agent=request.headers.get("user-agent", ""),
        trace_id=current_trace_id(),
    )
    return AuditTrail(db_session, context)


def _client_address(request: Request[Any, Any, Any]) -> str:
    """The caller's address: the peer, or behind trusted proxies the address they report (the rule
    the rate limit and the logs use)."""
    return runtime_of(request.app).proxies.client_address(request.scope)


def dependencies(apps: Sequence[AppSpec]) -> dict[str, Provide]:
    """kami's dependencies and every app's exported services; an export under a name kami already
    provides (or two apps exporting one name) stops start-up."""
    platform = {
        "page_params": provide_page_params,
        "identity": provide_identity,
        "token_signer": Provide(_token_signer, sync_to_thread=False),
        "store": Provide(_store, sync_to_thread=False),
        "cache": Provide(_cache, sync_to_thread=False),
        "flags": Provide(_flags, sync_to_thread=False),
        "jobs": Provide(_jobs, sync_to_thread=False),
        "client_address": Provide(_client_address, sync_to_thread=False),
        "login_sessions": Provide(_login_sessions, sync_to_thread=False),
        "audit": Provide(_audit),
        "permission_catalog": Provide(_permission_catalog, sync_to_thread=False),
        "api_keys": Provide(_api_keys, sync_to_thread=False),
        "mailer": Provide(_mailer, sync_to_thread=False),
        "rate_tiers": Provide(_rate_tiers, sync_to_thread=False),
    }
    services = exported_services(apps)
    taken = set(services) & {*platform, DB_SESSION_KEY}
    if taken:
        raise AppLoadError(f"an app exports a service under a name kami provides itself: {sorted(taken)}")
    return {**platform, **services}


def session_store(redis: Redis | None, app: str) -> LitestarStore:
    """Where an app's server-side sessions live: ``{app}:session:{id}`` in Redis, or in memory."""
    if redis is None:
        return MemoryStore()
    return RedisStore(redis, namespace=f"{app}:session")
