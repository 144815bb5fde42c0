"""The process's Redis clients, created on startup (no connection opens until first use).

Two clients, one per kind of use: the store's commands (cache, rate limits, locks, idempotency,
flags) share one pipelined connection (``PipelinedRedis``); the job queue, which needs connections
of its own for blocking pops, uses a redis-py pool. Both connect with one reading of
``KAMI_REDIS_URL`` (:class:`kami.store.address.RedisAddress`).
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

from kami.settings import Settings
from kami.store.address import RedisAddress
from kami.store.backend import Backend, MemoryBackend, RedisBackend
from kami.store.pipelined import PipelinedRedis

__all__ = ["build_backend", "build_redis"]


def build_redis(settings: Settings) -> Redis | None:
    """The redis-py client for the job queue, or ``None`` when no Redis is configured."""
    cfg = settings.redis
    if not cfg.url:
        return None
    pool = BlockingConnectionPool(
        max_connections=cfg.pool_size,
        timeout=cfg.socket_timeout,
        socket_timeout=cfg.socket_timeout,
        socket_connect_timeout=cfg.socket_timeout,
        health_check_interval=30,
        **RedisAddress.parse(cfg.url).client_options(),  # type: ignore[arg-type]
    )
    return Redis(connection_pool=pool)


def build_backend(settings: Settings) -> Backend:
    """The store: Redis over one pipelined connection, or this process's memory without a URL."""
    cfg = settings.redis
    if not cfg.url:
        return MemoryBackend()
    return RedisBackend(PipelinedRedis.from_url(cfg.url, timeout=cfg.socket_timeout))
