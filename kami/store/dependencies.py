"""What an app's handlers receive by dependency injection: its own namespaced store and cache."""

from __future__ import annotations

from typing import Any

from litestar import Request

from kami.store.cache import Cache
from kami.store.namespace import Store

__all__ = ["provide_cache", "provide_store"]


def provide_store(request: Request[Any, Any, Any]) -> Store:
    """The calling app's namespace (``app-b:...``); platform routes get ``kami``."""
    return Store(request.app.state.kami_backend, request.route_handler.opt.get("kami_app", "kami"))


def provide_cache(request: Request[Any, Any, Any]) -> Cache:
    return Cache(provide_store(request))
