"""Past a worker's capacity kami refuses at once (503 / 5006, Retry-After) instead of queueing, and
its own routes (health, metrics) still answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from kami import ApiResponse, AppSpec, success
from kami.pipeline.app import create_app
from kami.settings import Settings

GATE: dict[str, asyncio.Event] = {}


@get("/slow", summary="slow", description="Answers once the test opens the gate.")
async def slow_route() -> ApiResponse[str]:
    await GATE["open"].wait()
    return success("done")


def concurrent_client(app: Litestar) -> httpx.AsyncClient:
    """Requests that really overlap: httpx's ASGI transport runs each in its own task on this loop."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kami.test")


def busy_app() -> AppSpec:
    return AppSpec(name="busy", prefix="/busy", code_range=range(92000, 92100), route_handlers=[slow_route])


async def test_beyond_capacity_is_refused_at_once(make_settings: Callable[..., Settings]) -> None:
    GATE["open"] = asyncio.Event()
    app = create_app(make_settings(KAMI_SERVER_MAX_IN_FLIGHT="2"), [busy_app()])
    async with AsyncTestClient(app), concurrent_client(app) as client:  # the first runs the lifespan
        admitted = [asyncio.create_task(client.get("/busy/slow")) for _ in range(2)]
        await asyncio.sleep(0.2)  # both are inside the handler, waiting on the gate
        try:
            started = time.monotonic()
            refused = await asyncio.wait_for(client.get("/busy/slow"), 5)  # queued: TimeoutError
            waited = time.monotonic() - started
            assert refused.status_code == 503
            assert refused.json()["code"] == 5006
            assert refused.headers["retry-after"] == "1"
            assert waited < 1.0, "refused after waiting, not at once"
            assert (await client.get("/health/live")).status_code == 200  # never shed
            assert (await client.get("/metrics")).status_code == 200
        finally:
            GATE["open"].set()
        assert [a.status_code for a in await asyncio.gather(*admitted)] == [200, 200]
        assert (await client.get("/busy/slow")).status_code == 200  # capacity given back


async def test_no_limit_when_set_to_zero(make_settings: Callable[..., Settings]) -> None:
    GATE["open"] = asyncio.Event()
    app = create_app(make_settings(KAMI_SERVER_MAX_IN_FLIGHT="0"), [busy_app()])
    async with AsyncTestClient(app), concurrent_client(app) as client:
        waiting = [asyncio.create_task(client.get("/busy/slow")) for _ in range(20)]
        await asyncio.sleep(0.2)
        GATE["open"].set()
        assert {a.status_code for a in await asyncio.gather(*waiting)} == {200}
