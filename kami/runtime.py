"""What one worker's application holds at run time, in one typed object.

``create_app`` builds it (nothing in it has opened a connection yet: pools and the store connect on
first use, inside the worker's event loop) and every part of kami reaches it through
:func:`runtime_of`, never through loose attributes of ``app.state``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar import Litestar

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine

    from kami.app_spec import AppSpec
    from kami.jobs import Jobs
    from kami.observability.telemetry import Telemetry
    from kami.security.tokens import TokenSigner
    from kami.settings import Settings
    from kami.store.backend import Backend

__all__ = ["HealthCheck", "Runtime", "runtime_of"]

_KEY = "kami_runtime"

HealthCheck = Callable[["Runtime"], Awaitable[Any]]


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    apps: tuple[AppSpec, ...]
    engine: AsyncEngine
    backend: Backend  # the shared store (Redis, or this process's memory)
    redis: Redis | None  # redis-py, for the job queue and server-side sessions
    jobs: Jobs
    signer: TokenSigner
    telemetry: Telemetry
    schema_head: str | None  # the newest migration: what /health/ready expects the database at
    health_checks: Mapping[str, HealthCheck]  # /health: every component
    ready_checks: Mapping[str, HealthCheck]  # /health/ready: what serving needs

    def attach(self, app: Litestar) -> None:
        app.state[_KEY] = self


def runtime_of(app: Litestar) -> Runtime:
    """The runtime of ``app`` (``request.app``, ``scope["app"]``)."""
    runtime: Runtime = app.state[_KEY]
    return runtime
