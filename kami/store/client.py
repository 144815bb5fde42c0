"""One ``redis.asyncio`` client and connection pool per process, created on startup."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

from kami.settings import Settings

__all__ = ["build_redis"]


def build_redis(settings: Settings) -> Redis | None:
    """The shared client, or ``None`` when no Redis is configured (in-memory store)."""
    cfg = settings.redis
    if not cfg.url:
        return None
    pool = BlockingConnectionPool.from_url(
        cfg.url,
        max_connections=cfg.pool_size,
        timeout=cfg.socket_timeout,
        socket_timeout=cfg.socket_timeout,
        socket_connect_timeout=cfg.socket_timeout,
        health_check_interval=30,
    )
    return Redis(connection_pool=pool)
