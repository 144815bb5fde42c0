"""SIGTERM on a real ``kami serve`` (Granian, 2 workers, MariaDB, Redis, OTLP receiver).

The order an operator relies on: readiness turns 503 while requests are still served (drain), then
the listener closes, the request in flight completes and is stored, telemetry is flushed, exit 0.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kami.db.config import normalise_url
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.otlp import OtlpReceiver
from tests.support.redis import forget
from tests.support.servers import kami_env, run_kami
from tests.support.slow_client import trickle_post
from tests.support.waiting import wait_until

DRAIN, GRACE, TRICKLE = 2, 10, 4.0


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.TransportError:
        return None


async def _users_named(url: str, name: str) -> int:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as connection:
            query = text("SELECT COUNT(*) FROM kami_account WHERE username = :name")
            return int((await connection.execute(query, {"name": name})).scalar_one())
    finally:
        await engine.dispose()


def test_sigterm_drains_then_finishes_in_flight_work_and_exits_zero(
    tmp_path: Path, mysql_at_head: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "60000")  # spans leave only through the shutdown flush
    forget(service_url("redis"), "ratelimit:*")
    with OtlpReceiver() as receiver:
        env = kami_env(
            tmp_path,
            KAMI_DATABASE_URL=mysql_at_head.database_url,
            KAMI_REDIS_URL=service_url("redis"),
            KAMI_SECRET_KEY="g" * 40,
            KAMI_SERVER_DRAIN_SECONDS=str(DRAIN),
            KAMI_SERVER_GRACEFUL_TIMEOUT=str(GRACE),
            KAMI_TELEMETRY_OTLP_ENDPOINT=receiver.endpoint,
            KAMI_TELEMETRY_SAMPLING_RATIO="1",
            KAMI_RATELIMIT_DEFAULT="100000/minute",  # earlier tests' traffic shares this address's window
        )
        with run_kami(env, workers=2, ready_path="/health/ready") as kami:
            result: dict[str, Any] = {}
            user = {"email": "inflight@example.com", "username": "inflight", "password": "correct horse"}

            def in_flight() -> None:
                result["answer"] = trickle_post(kami.url, "/accounts/v1/users", user, TRICKLE)

            sender = threading.Thread(target=in_flight)
            sender.start()
            time.sleep(0.5)  # the request is on the wire, its body still arriving
            signalled = time.monotonic()
            kami.process.send_signal(signal.SIGTERM)

            assert wait_until(lambda: _status(kami.url + "/health/ready") == 503, seconds=1.5, interval=0.05)
            # Still draining: the listener is open and everything but readiness is served.
            assert time.monotonic() - signalled < DRAIN
            assert _status(kami.url + "/health/live") == 200
            assert _status(kami.url + "/app-b/v1/products") == 200

            # After the drain the listener closes; the process exits 0 well within drain + grace.
            assert wait_until(lambda: _status(kami.url + "/health/live") is None, seconds=DRAIN + 2)
            code = kami.process.wait(timeout=DRAIN + GRACE)
            stopped = time.monotonic() - signalled
            sender.join(timeout=30)

        assert code == 0, kami.output()
        assert stopped < DRAIN + GRACE
        status, body = result["answer"]
        assert status == 201, body
        assert body["code"] == 0
        assert body["data"]["username"] == "inflight"
        assert anyio.run(_users_named, mysql_at_head.database_url, "inflight") == 1
        # The batch processor's delay is a minute: these spans left through the shutdown flush.
        assert wait_until(lambda: any(s.name == "POST /accounts/v1/users" for s in receiver.spans), seconds=5)
        assert "draining: readiness answers 503" in kami.output()
