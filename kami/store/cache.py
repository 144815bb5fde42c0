"""Cache-aside for services: get-or-compute with TTL, explicit and tag invalidation, no stampede.

A read never stores a value computed before a write it overlapped: every key and tag has a version
that invalidation bumps, and a computed value is stored only if the versions it started from are
still current. Storing (check, set, register under its tags) and invalidating (bump, purge every
registered key) are each one atomic step, so no interleaving leaves a value outside its tags.
When the backend is down, reads fall through to ``compute``.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import msgspec
import structlog
from redis.exceptions import RedisError

from kami.observability.events import events
from kami.store.backend import Index
from kami.store.namespace import Store

__all__ = ["Cache"]

T = TypeVar("T")
log = structlog.get_logger("kami.cache")
VERSION_TTL = 7 * 86400.0


class Cache:
    def __init__(self, store: Store, *, fill_timeout: float = 5.0) -> None:
        self.store = store
        self.fill_timeout = fill_timeout

    def _value_key(self, key: str) -> str:
        return self.store.key("cache", key)

    def _version_key(self, name: str) -> str:
        return self.store.key("cache-version", name)

    def _tag_key(self, tag: str) -> str:
        return self.store.key("cache-tag", tag)

    async def get_or_compute(
        self,
        key: str,
        compute: Callable[[], Awaitable[T]],
        *,
        decode_as: type[T],
        ttl: float,
        tags: Sequence[str] = (),
    ) -> T:
        backend = self.store.backend
        value_key = self._value_key(key)
        guards = [self._version_key(key), *(self._version_key(f"tag:{t}") for t in tags)]
        try:
            cached = await backend.get(value_key)
            if cached is not None:
                try:
                    found: T = msgspec.json.decode(cached, type=decode_as)
                except msgspec.DecodeError:  # kept by an older release in another shape: a miss
                    found = None  # type: ignore[assignment]
                if found is not None:
                    events.increment("cache_hits", namespace=self.store.namespace)
                    return found
            events.increment("cache_misses", namespace=self.store.namespace)
            versions = dict(zip(guards, await backend.get_many(guards), strict=True))
            fill_lock, token = self.store.key("cache-fill", key), secrets.token_bytes(8)
            if not await backend.set(fill_lock, token, ttl=self.fill_timeout, only_if_absent=True):
                waited = await self._wait_for(value_key, fill_lock)
                if waited is not None:
                    return msgspec.json.decode(waited, type=decode_as)  # type: ignore[no-any-return]
        except (RedisError, OSError) as exc:
            return await self._degraded(exc, compute)
        try:
            value = await compute()
            try:
                index = Index([self._tag_key(t) for t in tags], key, VERSION_TTL)
                await backend.set_if_unchanged(value_key, msgspec.json.encode(value), ttl, versions, index)
            except (RedisError, OSError) as exc:
                log.warning("cache store failed", key=key, error=type(exc).__name__)
            return value
        finally:
            with contextlib.suppress(RedisError, OSError):
                await backend.delete_if_value(fill_lock, token)

    async def _wait_for(self, value_key: str, fill_lock: str) -> bytes | None:
        """Another caller is computing this key: wait for its value instead of computing it again."""
        backend = self.store.backend
        deadline = time.monotonic() + self.fill_timeout
        while time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            value = await backend.get(value_key)
            if value is not None:
                return value
            if await backend.get(fill_lock) is None:
                return await backend.get(value_key)
        return None

    async def _degraded(self, exc: BaseException, compute: Callable[[], Awaitable[T]]) -> T:
        events.increment("cache_errors", namespace=self.store.namespace)
        log.warning("cache unavailable, reading through", error=type(exc).__name__)
        return await compute()

    async def invalidate(self, *keys: str, tags: Sequence[str] = ()) -> None:
        """Forget these keys and every key stored with one of ``tags``, and refuse any value computed
        before this call. Call it after the write has committed. With the store down the write stands:
        the failure is logged and counted, and stale entries live at most until their TTL."""
        try:
            await self.store.backend.bump_and_purge(
                [self._version_key(name) for name in [*keys, *(f"tag:{t}" for t in tags)]],
                VERSION_TTL,
                [self._value_key(k) for k in keys],
                [self._tag_key(t) for t in tags],
                member_prefix=self._value_key(""),
            )
        except (RedisError, OSError) as exc:
            events.increment("cache_errors", namespace=self.store.namespace)
            log.error("cache invalidation failed", keys=list(keys), tags=list(tags), error=type(exc).__name__)
