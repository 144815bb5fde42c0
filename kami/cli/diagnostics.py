"""Startup failures explained: which setting, what went wrong, what to check.

``kami migrate`` fails with ``KAMI_DATABASE_URL: cannot connect to 127.0.0.1:3306 (connection refused)
— is MySQL running and reachable?`` instead of a driver traceback; ``kami serve`` warns the same way
about a database or Redis it cannot reach, then serves anyway (readiness answers 503 until they do).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from kami.db.config import engine_options, normalise_url
from kami.db.errors import connection_problem
from kami.settings import RedisAddress, Settings
from kami.store.client import build_redis

__all__ = [
    "database_problem",
    "explain_database_error",
    "explain_redis_error",
    "redis_problem",
    "unreachable_services",
]

_SERVERS = {"mysql": "MySQL", "mariadb": "MariaDB", "postgresql": "PostgreSQL", "sqlite": "SQLite"}


def explain_database_error(settings: Settings, exc: BaseException) -> str:
    url = make_url(settings.database_url)
    variable = "KAMI_DATABASE_URL" if settings.database.url else "KAMI_DATABASE_HOST"
    server = _SERVERS.get(url.get_backend_name(), url.get_backend_name())
    where = f"{url.host}:{url.port}" if url.port else str(url.host)
    problem, reachability = connection_problem(exc, settings.database.connect_timeout)
    hint = f" — is {server} running and reachable?" if reachability else ""
    return f"{variable}: cannot connect to {where} ({problem}){hint}"


def explain_redis_error(settings: Settings, exc: BaseException) -> str:
    where = RedisAddress.parse(settings.redis.url).where
    problem, reachability = connection_problem(exc, settings.redis.socket_timeout)
    hint = " — is Redis running and reachable?" if reachability else ""
    return f"KAMI_REDIS_URL: cannot connect to {where} ({problem}){hint}"


async def _database(settings: Settings) -> str | None:
    url = normalise_url(settings.database_url)
    connect = {k: v for k, v in engine_options(settings, url).items() if k == "connect_args"}
    engine = create_async_engine(url, poolclass=pool.NullPool, **connect)
    try:
        async with asyncio.timeout(settings.database.connect_timeout + 1):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as exc:
        return explain_database_error(settings, exc)
    finally:
        await engine.dispose()
    return None


async def _redis(settings: Settings) -> str | None:
    client = build_redis(settings)  # the client kami itself uses, as it would connect
    if client is None:
        return None
    try:
        await client.ping()
    except Exception as exc:
        return explain_redis_error(settings, exc)
    finally:
        await client.aclose()
    return None


def database_problem(settings: Settings) -> str | None:
    """Why the configured database cannot be used right now, or None when it answers."""
    return asyncio.run(_database(settings))


def redis_problem(settings: Settings) -> str | None:
    return asyncio.run(_redis(settings)) if settings.redis.url else None


def unreachable_services(settings: Settings) -> list[str]:
    """One explanation per configured server kami cannot reach right now (none for the embedded default)."""

    async def run() -> list[str | None]:
        checks = []
        if not settings.uses_embedded_database:
            checks.append(_database(settings))
        if settings.redis.url:
            checks.append(_redis(settings))
        return list(await asyncio.gather(*checks))

    return [message for message in asyncio.run(run()) if message]
