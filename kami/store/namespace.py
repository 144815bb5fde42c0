"""Namespaced keys on the shared backend: ``{app}:{resource}:{id}`` (e.g. ``app-b:cache:product:1``)."""

from __future__ import annotations

from typing import TypeVar

import msgspec

from kami.store.backend import Backend

__all__ = ["Store"]

T = TypeVar("T")


class Store:
    """One namespace (an app's name, or a platform area like ``ratelimit``) on the shared backend.

    Apps never choose their namespace: kami hands each app the store of the app it belongs to (the
    ``store`` dependency, ``JobContext.store``, the store an exported service is built with).
    """

    def __init__(self, backend: Backend, namespace: str) -> None:
        self.backend = backend
        self.namespace = namespace

    def key(self, resource: str, *parts: str) -> str:
        return ":".join((self.namespace, resource, *parts))

    async def get(self, *key: str, type: type[T]) -> T | None:
        """The value stored under ``key``, decoded as ``type``; None when there is none."""
        raw = await self.backend.get(self.key(*key))
        return None if raw is None else msgspec.json.decode(raw, type=type)

    async def put(self, *key: str, value: object, ttl: float | None = None) -> None:
        """Store ``value`` (anything msgspec encodes) under ``key``, for ``ttl`` seconds or for good."""
        await self.backend.set(self.key(*key), msgspec.json.encode(value), ttl=ttl)
