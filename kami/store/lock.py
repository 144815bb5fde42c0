"""A distributed lock (``{namespace}:lock:{resource}``) with an owner token, a timeout and safe release."""

from __future__ import annotations

import asyncio
import secrets
import time
from types import TracebackType

from kami.store.namespace import Store

__all__ = ["DistributedLock", "LockNotAcquiredError"]


class LockNotAcquiredError(TimeoutError):
    """Someone else held the lock for longer than we were willing to wait."""


class DistributedLock:
    """``async with DistributedLock(store, "expire-orders", ttl=60):`` - one holder across replicas.

    The lock expires after ``ttl`` seconds even if its holder dies; release deletes it only if this
    holder still owns it (a holder that outlived its ttl cannot release someone else's lock).
    """

    def __init__(self, store: Store, resource: str, *, ttl: float = 30.0, wait: float = 10.0) -> None:
        self.backend = store.backend
        self.key = store.key("lock", resource)
        self.ttl = ttl
        self.wait = wait
        self.token = secrets.token_bytes(16)

    async def acquire(self) -> bool:
        deadline = time.monotonic() + self.wait
        delay = 0.005
        while True:
            if await self.backend.set(self.key, self.token, ttl=self.ttl, only_if_absent=True):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def release(self) -> bool:
        return await self.backend.delete_if_value(self.key, self.token)

    async def __aenter__(self) -> DistributedLock:
        if not await self.acquire():
            raise LockNotAcquiredError(f"{self.key} is held by someone else")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.release()
