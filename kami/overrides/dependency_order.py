"""Resolve each request's dependencies one after another instead of concurrently.

Litestar resolves a handler's independent dependencies (say ``db_session`` and ``cache``) in an anyio
task group: a group and one task per dependency on every request, ~110 µs of CPU for two of them
here, while each of kami's providers only hands over an object it already has (a session that has not
connected yet, the cache, the identity from the verified token). Nothing is gained by overlapping
them, so every batch of the handler's dependency plan is split into batches of one, in the same
topological order: dependencies still come before what needs them, and cleanup is unchanged.

Overrides: ``KwargsModel.dependency_batches`` (a public attribute of Litestar's private
``litestar._kwargs`` module), rewritten after the application is built.
Upstream: https://github.com/litestar-org/litestar/issues/4563 (open).
Written for: litestar 2.25.0.
Tripwire: tests/overrides/test_dependency_order.py — fails once Litestar stops spawning a task per
independent dependency (then delete this module) or renames what it rewrites.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute

__all__ = ["resolve_dependencies_in_order"]


def resolve_dependencies_in_order(app: Litestar) -> None:
    """Rewrite the dependency plan of every HTTP handler registered on ``app`` (call after routing)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for _, kwargs_model in route.route_handler_map.values():
            batches = kwargs_model.dependency_batches
            kwargs_model.dependency_batches = [{dependency} for batch in batches for dependency in batch]
