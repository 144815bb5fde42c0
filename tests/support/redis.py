"""Test hygiene for the shared Redis test database."""

from __future__ import annotations

import anyio
from redis.asyncio import Redis

__all__ = ["forget"]


def forget(url: str, *patterns: str) -> None:
    """Delete every key matching ``patterns`` (leftovers of earlier tests or runs)."""

    async def run() -> None:
        client = Redis.from_url(url)
        try:
            for pattern in patterns:
                async for key in client.scan_iter(match=pattern):
                    await client.unlink(key)
        finally:
            await client.aclose()

    anyio.run(run)
