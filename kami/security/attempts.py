"""Attempts per subject (e.g. logins per account) counted in the shared store, so every replica agrees.

The request rate limiter counts by caller (user or address); this counts by what is being attacked:
an attacker rotating addresses still gets only ``limit`` guesses at one account per ``window``.
"""

from __future__ import annotations

import hashlib
import math

import structlog
from redis.exceptions import RedisError

from kami.errors import RateLimitedError
from kami.observability.counters import counters
from kami.store.namespace import Store

__all__ = ["AttemptLimiter"]

log = structlog.get_logger("kami.attempts")


class AttemptLimiter:
    """At most ``limit`` attempts per subject in ``window`` seconds; the next answers 429 / 4006 with
    ``Retry-After``. A store outage lets attempts through (logged and counted), as the rate limiter does."""

    def __init__(self, store: Store, action: str, limit: int, window: float) -> None:
        self.store = store
        self.action = action
        self.limit = limit
        self.window = window

    async def attempt(self, subject: str) -> None:
        digest = hashlib.sha256(subject.strip().lower().encode()).hexdigest()[:32]  # no emails in keys
        key = self.store.key("attempts", self.action, digest)
        try:
            result = await self.store.backend.hit_window(key, self.limit, self.window)
        except (RedisError, OSError) as exc:
            counters.increment("ratelimit_store_errors")
            log.warning(
                "attempt limiter unavailable, letting through", action=self.action, error=type(exc).__name__
            )
            return
        if not result.allowed:
            retry = max(1, math.ceil(result.retry_after))
            raise RateLimitedError(
                f"Too many {self.action} attempts; retry in {retry} s",
                data={"retry_after": retry},
                headers={"Retry-After": str(retry)},
            )
