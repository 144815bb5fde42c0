"""What one worker's application holds at run time, in one typed object.

``create_app`` builds it (nothing in it has opened a connection yet: pools and the store connect on
first use, inside the worker's event loop) and every part of kami reaches it through
:func:`runtime_of`, never through loose attributes of ``app.state``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar import Litestar

if TYPE_CHECKING:
    from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
    from litestar.types import Scope
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from kami.app_spec import AppSpec
    from kami.jobs import Jobs
    from kami.observability.telemetry import Telemetry
    from kami.security.api_keys import ApiKeys
    from kami.security.permissions import PermissionCatalog
    from kami.security.sessions import LoginSessions
    from kami.security.tokens import TokenSigner
    from kami.security.trusted_proxies import TrustedProxies
    from kami.settings import Settings
    from kami.store.backend import Backend

__all__ = ["DRAIN_MARKER_VARIABLE", "HealthCheck", "Runtime", "is_draining", "runtime_of"]

_KEY = "kami_runtime"
# Set by ``kami serve`` for its workers: the file whose existence means "this instance is draining".
DRAIN_MARKER_VARIABLE = "KAMI_DRAIN_MARKER"

HealthCheck = Callable[["Runtime"], Awaitable[Any]]


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    apps: tuple[AppSpec, ...]
    engine: AsyncEngine
    database: SQLAlchemyAsyncConfig  # sessions: one per request, shared by its handler and kami's layers
    backend: Backend  # the shared store (Redis, or this process's memory)
    redis: Redis | None  # redis-py, for the job queue and server-side sessions
    jobs: Jobs
    signer: TokenSigner
    login_sessions: LoginSessions  # what every token belongs to: checked on each authenticated request
    api_keys: ApiKeys  # service clients' keys (database, with a copy in the store)
    permissions: PermissionCatalog  # what the mounted apps declare; the built-in roles
    proxies: TrustedProxies  # whom to believe about the client's address: one rule for every layer
    telemetry: Telemetry
    schema_head: str | None  # the newest migration: what /health/ready expects the database at
    health_checks: Mapping[str, HealthCheck]  # /health: every component
    ready_checks: Mapping[str, HealthCheck]  # /health/ready: what serving needs

    def attach(self, app: Litestar) -> None:
        app.state[_KEY] = self

    def request_session(self, scope: Scope) -> AsyncSession:
        """The request's session: the one its handler receives as ``db_session``."""
        return self.database.provide_session(scope["app"].state, scope)


def is_draining() -> bool:
    """True once this server's main process received SIGTERM (``/health/ready`` then answers 503)."""
    marker = os.environ.get(DRAIN_MARKER_VARIABLE)
    return marker is not None and os.path.exists(marker)


def runtime_of(app: Litestar) -> Runtime:
    """The runtime of ``app`` (``request.app``, ``scope["app"]``)."""
    runtime: Runtime = app.state[_KEY]
    return runtime
