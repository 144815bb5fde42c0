"""What an app's handlers receive by dependency injection: its own namespaced store and cache."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.stores.base import Store as LitestarStore
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from kami.routes import policy_of
from kami.runtime import runtime_of
from kami.store.cache import Cache
from kami.store.flags import FeatureFlags
from kami.store.namespace import Store

__all__ = ["provide_cache", "provide_flags", "provide_store", "session_store"]


def provide_store(request: Request[Any, Any, Any]) -> Store:
    """The calling app's namespace (``app-b:...``); platform routes get ``kami``."""
    return Store(runtime_of(request.app).backend, policy_of(request.route_handler).app)


def provide_cache(request: Request[Any, Any, Any]) -> Cache:
    return Cache(provide_store(request))


def provide_flags(request: Request[Any, Any, Any]) -> FeatureFlags:
    return FeatureFlags(runtime_of(request.app).backend)


def session_store(redis: Redis | None, app: str) -> LitestarStore:
    """Where an app's server-side sessions live: ``{app}:session:{id}`` in Redis, or in memory."""
    if redis is None:
        return MemoryStore()
    return RedisStore(redis, namespace=f"{app}:session")
