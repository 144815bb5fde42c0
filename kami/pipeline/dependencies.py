"""What handlers receive by dependency injection, by name: kami's own dependencies and the services
apps export (``AppSpec.exports``, the identity slice's ``accounts`` among them). The store is the
calling app's own namespace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from kami.app_spec import AppLoadError, AppSpec, exported_services
from kami.db.audit import AuditContext, AuditTrail
from kami.db.config import DB_SESSION_KEY
from kami.db.pagination import provide_page_params
from kami.envelope import current_trace_id
from kami.jobs import Jobs
from kami.pipeline.runtime import RUNTIME_DEPENDENCY, Runtime
from kami.routes import policy_of
from kami.security.identity import identity_or_none, provide_identity
from kami.store.namespace import Store

__all__ = ["dependencies"]


def dependencies(apps: Sequence[AppSpec], runtime: Runtime) -> dict[str, Provide]:
    """kami's dependencies and every app's exported services; an export under a name kami already
    provides (or two apps exporting one name) stops start-up. Each is built from ``runtime`` once,
    here: nothing is looked up per request."""
    backend, proxies, jobs = runtime.backend, runtime.proxies, runtime.jobs

    def store(request: Request[Any, Any, Any]) -> Store:
        """The calling app's namespace (``{app}:...``); kami's own routes get ``kami``."""
        return Store(backend, policy_of(request.route_handler).app)

    def client_address(request: Request[Any, Any, Any]) -> str:
        """The caller's address: the peer, or behind trusted proxies the address they report (the
        rule the rate limit and the logs use)."""
        return proxies.client_address(request.scope)

    def provide_jobs() -> Jobs:
        return jobs

    def provide_runtime() -> Runtime:
        return runtime

    async def audit(db_session: NamedDependency[AsyncSession], request: Request[Any, Any, Any]) -> AuditTrail:
        """The audit trail on the request's session: events commit with the change they record, and
        carry the caller (an account id, or ``anonymous``), address, user agent and trace id."""
        identity = identity_or_none(request)
        context = AuditContext(
            actor=identity.user_id if identity else "anonymous",
            address=proxies.client_address(request.scope),
            user_agent=request.headers.get("user-agent", ""),
            trace_id=current_trace_id(),
            api_key=identity.api_key if identity else "",
        )
        return AuditTrail(db_session, context)

    platform = {
        "page_params": provide_page_params,
        "identity": provide_identity,
        "store": Provide(store, sync_to_thread=False),
        "jobs": Provide(provide_jobs, sync_to_thread=False),
        "client_address": Provide(client_address, sync_to_thread=False),
        "audit": Provide(audit),
        RUNTIME_DEPENDENCY: Provide(provide_runtime, sync_to_thread=False),
    }
    services = exported_services(apps, backend)
    taken = set(services) & {*platform, DB_SESSION_KEY}
    if taken:
        raise AppLoadError(f"an app exports a service under a name kami provides itself: {sorted(taken)}")
    return {**platform, **services}
