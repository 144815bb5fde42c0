"""The limit holds across processes: 2 kami processes x 2 Granian workers sharing one Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio
import httpx

from tests.conftest import service_url
from tests.support.redis import forget
from tests.support.servers import kami_env, run_kami

LIMIT, BURST = 20, 60


async def _burst(urls: list[str]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=20) as client:
        return list(
            await asyncio.gather(
                *(client.get(f"{urls[i % len(urls)]}/app-b/v1/products") for i in range(BURST))
            )
        )


def test_burst_across_two_processes_lets_exactly_the_limit_through(tmp_path: Path) -> None:
    redis_url = service_url("redis")
    forget(redis_url, "ratelimit:*")
    common = {"KAMI_REDIS_URL": redis_url, "KAMI_RATELIMIT_DEFAULT": f"{LIMIT}/minute"}
    with (
        run_kami(kami_env(tmp_path / "one", **common), workers=2) as one,
        run_kami(kami_env(tmp_path / "two", **common), workers=2) as two,
    ):
        answers = anyio.run(_burst, [one.url, two.url])
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == LIMIT, statuses
    assert statuses.count(429) == BURST - LIMIT
    assert all("Retry-After" in a.headers for a in answers if a.status_code == 429)
