"""Sliding-window rate limiting, atomic in the shared store, so limits hold across workers and replicas.

Replaces Litestar's fixed-window limiter (non-atomic GET-then-SET, IP only, no ``Retry-After``).
The limit for a request is, most specific first: the route's ``route_options(rate_limit=...)``, its
app's ``AppSpec.rate_limit`` (both resolved at startup into the route's policy), the caller's tier
(``KAMI_RATELIMIT_TIERS``), then ``KAMI_RATELIMIT_DEFAULT``.
The caller is the authenticated user when a valid token is sent, else the client address (taken
from ``X-Forwarded-For`` only when the peer is a trusted proxy).
"""

from __future__ import annotations

import math

import structlog
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from redis.exceptions import RedisError

from kami.codes import Codes
from kami.errors import CacheUnavailableError, KamiError
from kami.observability.events import events
from kami.overrides.response_headers import set_response_headers
from kami.pipeline.layer import Layer
from kami.routes import RateLimit, policy_of
from kami.security.identity import caller_of
from kami.security.trusted_proxies import TrustedProxies
from kami.settings import RateLimitSettings
from kami.store.backend import Backend

__all__ = ["RateLimitMiddleware"]

log = structlog.get_logger("kami.pipeline.rate_limit")


class RateLimitMiddleware(Layer):
    scopes = (ScopeType.HTTP,)

    def __init__(self, settings: RateLimitSettings, proxies: TrustedProxies, backend: Backend) -> None:
        self.settings = settings
        self.default = settings.default
        self.tiers = settings.tiers
        self.proxies = proxies
        self.backend = backend

    def _choose(self, scope: Scope, tier: str | None) -> tuple[RateLimit, str]:
        policy = policy_of(scope["route_handler"])
        if policy.rate_limit is not None:
            return policy.rate_limit, policy.rate_bucket
        if tier and tier in self.tiers:
            return self.tiers[tier], "global"
        return self.default, "global"

    @staticmethod
    def _needs_caller(scope: Scope) -> bool:
        """Routes anyone may call (login, registration, recovery) count by address whatever
        credentials come with the request: rotating throwaway accounts' tokens lifts no limit there."""
        return policy_of(scope["route_handler"]).access is not None

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if not self.settings.enabled:
            await next_app(scope, receive, send)
            return
        caller = caller_of(
            ASGIConnection(scope), self.proxies, counted_by_address=not self._needs_caller(scope)
        )
        rate, bucket = self._choose(scope, caller.tier)
        try:
            result = await self.backend.hit_window(
                f"ratelimit:{bucket}:{caller.key}", rate.limit, rate.window
            )
        except (RedisError, OSError) as exc:
            events.increment("ratelimit_store_errors")
            log.warning(
                "rate limit store unavailable", fail_open=self.settings.fail_open, error=type(exc).__name__
            )
            if not self.settings.fail_open:
                raise CacheUnavailableError("Rate limiting unavailable, retry later") from exc
            await next_app(scope, receive, send)
            return
        headers = {
            "RateLimit-Limit": str(rate.limit),
            "RateLimit-Remaining": str(result.remaining),
            "RateLimit-Reset": str(math.ceil(result.reset_after)),
            "RateLimit-Policy": str(rate),
        }
        if not result.allowed:
            events.increment("ratelimit_rejections", app=policy_of(scope["route_handler"]).app)
            headers["Retry-After"] = str(max(1, math.ceil(result.retry_after)))
            raise KamiError(code=Codes.TOO_MANY_REQUESTS, headers=headers)

        encoded = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                set_response_headers(message, encoded)
            await send(message)

        await next_app(scope, receive, send_with_headers)
