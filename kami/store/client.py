"""The process's Redis clients, created on startup (no connection opens until first use).

Two clients, one per kind of use: the store's commands (cache, rate limits, locks, idempotency,
flags) share one pipelined connection (``PipelinedRedis``); the job queue, which needs connections
of its own for blocking pops, uses a redis-py pool. Both connect with one reading of
``KAMI_REDIS_URL`` (:class:`kami.settings.RedisAddress`).
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection

from kami.settings import RedisAddress, Settings
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
        **_pool_options(RedisAddress.parse(cfg.url)),  # type: ignore[arg-type]
    )
    return Redis(connection_pool=pool)


def _pool_options(address: RedisAddress) -> dict[str, object]:
    """Connection options for redis-py's ``ConnectionPool`` (the job queue's and sessions' client),
    from exactly what the URL said."""
    options: dict[str, object] = {
        "db": address.db,
        "username": address.username,
        "password": address.password,
    }
    if address.path:
        return options | {"connection_class": UnixDomainSocketConnection, "path": address.path}
    kind = SSLConnection if address.tls else Connection
    return options | {"connection_class": kind, "host": address.host, "port": address.port}


def build_backend(settings: Settings) -> Backend:
    """The store: Redis over one pipelined connection, or this process's memory without a URL."""
    cfg = settings.redis
    if not cfg.url:
        return MemoryBackend()
    return RedisBackend(PipelinedRedis.from_url(cfg.url, timeout=cfg.socket_timeout))
