"""Failed attempts per subject (e.g. wrong passwords for one account from one address) counted in the
shared store, so every replica agrees.

Only failures count, and a success clears them: a user who logs in now and then never comes near the
limit, and nobody can lock an account by logging into it. The subject names what is attacked *and*
from where (``login`` uses account + address), so an attacker who keeps failing from one address
locks only that address out of that account; the owner logs in from anywhere else. The request rate
limiter bounds how many attempts one address makes at all.
"""

from __future__ import annotations

import hashlib
import math
import time

import structlog
from redis.exceptions import RedisError

from kami.errors import RateLimitedError
from kami.observability.events import events
from kami.store.namespace import Store

__all__ = ["FailureLimiter"]

log = structlog.get_logger("kami.attempts")


class FailureLimiter:
    """At most ``limit`` failures per subject in ``window`` seconds (a sliding window); after the
    last, attempts answer 429 / 4006 with ``Retry-After`` until the oldest failure leaves the window.
    A store outage lets attempts through (logged and counted), as the rate limiter does."""

    def __init__(self, store: Store, action: str, limit: int, window: float) -> None:
        self.store = store
        self.action = action
        self.limit = limit
        self.window = window

    def _key(self, kind: str, *subject: str) -> str:
        text = "\x1f".join(part.strip().lower() for part in subject)
        digest = hashlib.sha256(text.encode()).hexdigest()[:32]  # no emails or addresses in keys
        return self.store.key("attempts", self.action, kind, digest)

    async def check(self, *subject: str) -> None:
        """Refuse (429) while ``subject`` is locked out; count nothing."""
        try:
            until = await self.store.backend.get(self._key("locked", *subject))
        except (RedisError, OSError) as exc:
            self._unavailable(exc)
            return
        if until is None:
            return
        retry = max(1, math.ceil(float(until) - time.time()))
        raise RateLimitedError(
            f"Too many failed {self.action} attempts; retry in {retry} s",
            data={"retry_after": retry},
            headers={"Retry-After": str(retry)},
        )

    async def failed(self, *subject: str) -> None:
        """Count a failure; the one that reaches the limit locks ``subject`` out."""
        try:
            result = await self.store.backend.hit_window(
                self._key("failures", *subject), self.limit, self.window
            )
            if result.remaining == 0 or not result.allowed:
                lock_for = max(result.reset_after, 1.0)
                until = str(time.time() + lock_for).encode()
                await self.store.backend.set(self._key("locked", *subject), until, ttl=lock_for)
                events.increment("attempts_locked", action=self.action)
        except (RedisError, OSError) as exc:
            self._unavailable(exc)

    async def succeeded(self, *subject: str) -> None:
        """A success clears ``subject``'s failures."""
        try:
            await self.store.backend.delete(self._key("failures", *subject), self._key("locked", *subject))
        except (RedisError, OSError) as exc:
            self._unavailable(exc)

    def _unavailable(self, exc: BaseException) -> None:
        events.increment("ratelimit_store_errors")
        log.warning(
            "attempt limiter unavailable, letting through", action=self.action, error=type(exc).__name__
        )
