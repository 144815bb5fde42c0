"""Namespaced keys on the shared backend: ``{app}:{resource}:{id}`` (e.g. ``app-b:cache:product:1``)."""

from __future__ import annotations

from kami.store.backend import Backend

__all__ = ["Store"]


class Store:
    """One namespace (an app's name, or a platform area like ``ratelimit``) on the shared backend."""

    def __init__(self, backend: Backend, namespace: str) -> None:
        self.backend = backend
        self.namespace = namespace

    def key(self, resource: str, *parts: str) -> str:
        return ":".join((self.namespace, resource, *parts))

    def scoped(self, namespace: str) -> Store:
        return Store(self.backend, namespace)
