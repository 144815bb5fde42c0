"""What one worker's application holds at run time, in one typed object.

``create_app`` builds it (nothing in it has opened a connection yet: pools and the store connect on
first use, inside the worker's event loop) and hands each part to what uses it when the application
is built: the request layers and providers take their collaborators in their constructors. kami's own
routes (health, index) receive it as the ``kami_runtime`` dependency; tests reach it with
:func:`runtime_of`.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar import Litestar
from litestar.di import NamedDependency
from litestar.types import Scope
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from kami.accounts.provider import IdentityProvider
from kami.app_spec import AppSpec
from kami.jobs import Jobs
from kami.observability.telemetry import Telemetry
from kami.security.trusted_proxies import TrustedProxies
from kami.settings import Settings
from kami.store.backend import Backend

__all__ = [
    "DRAIN_MARKER_VARIABLE",
    "RUNTIME_DEPENDENCY",
    "HealthCheck",
    "Runtime",
    "is_draining",
    "runtime_from",
    "runtime_of",
]

_KEY = "kami_runtime"
RUNTIME_DEPENDENCY = "kami_runtime"  # what kami's own handlers take it as
# Set by ``kami serve`` for its workers: the file whose existence means "this instance is draining".
DRAIN_MARKER_VARIABLE = "KAMI_DRAIN_MARKER"

HealthCheck = Callable[["Runtime"], Awaitable[Any]]


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    apps: tuple[AppSpec, ...]  # the mounted apps (the identity slice is ``identity``'s)
    engine: AsyncEngine
    database: SQLAlchemyAsyncConfig  # sessions: one per request, shared by its handler and kami's layers
    backend: Backend  # the shared store (Redis, or this process's memory)
    redis: Redis | None  # redis-py, for the job queue
    jobs: Jobs
    identity: IdentityProvider  # accounts, sessions, API keys: every request's credentials
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


# How kami's own handlers take it: unvalidated (Litestar would otherwise convert the dataclass field by
# field on every request, and fail on the types it cannot resolve); ``runtime_from`` gives it its type.
RuntimeDependency = NamedDependency[Any]


def runtime_from(dependency: Any) -> Runtime:
    assert isinstance(dependency, Runtime)
    return dependency


def is_draining() -> bool:
    """True once this server's main process received SIGTERM (``/health/ready`` then answers 503)."""
    marker = os.environ.get(DRAIN_MARKER_VARIABLE)
    return marker is not None and os.path.exists(marker)


def runtime_of(app: Litestar) -> Runtime:
    """The runtime of ``app``, for tests and tools that drive an application from outside."""
    runtime: Runtime = app.state[_KEY]
    return runtime
