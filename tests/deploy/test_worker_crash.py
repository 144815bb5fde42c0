"""A Granian worker killed under traffic: it is respawned, and only requests in flight on it can fail."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import psutil

from tests.conftest import service_url
from tests.support.servers import kami_env, run_kami
from tests.support.waiting import wait_until


def test_killed_worker_is_respawned_and_traffic_recovers(tmp_path: Path) -> None:
    # Several workers need the shared store (the embedded default refuses to run more than one).
    with run_kami(kami_env(tmp_path, KAMI_REDIS_URL=service_url("redis")), workers=2) as kami:
        main = psutil.Process(kami.process.pid)
        workers = {child.pid for child in main.children()}
        assert len(workers) == 2
        victim = min(workers)
        sent = failed = wrong = 0
        killed_at = recovered_at = 0.0
        with httpx.Client(base_url=kami.url, timeout=5, headers={"Connection": "close"}) as client:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if sent == 50:
                    os.kill(victim, signal.SIGKILL)
                    killed_at = time.monotonic()
                sent += 1
                try:
                    answer = client.get("/health/live")
                except httpx.TransportError:
                    failed += 1
                    continue
                if answer.status_code != 200 or answer.json()["code"] != 0:
                    wrong += 1
                if killed_at and not recovered_at and len({c.pid for c in main.children()} - {victim}) == 2:
                    recovered_at = time.monotonic()
                if recovered_at and sent > 400:
                    break
        assert wait_until(lambda: len(main.children()) == 2, seconds=15)
        assert victim not in {child.pid for child in main.children()}
    print(
        f"\nworker killed: {sent} requests, {failed} failed, {wrong} wrong answers, "
        f"respawned after {recovered_at - killed_at:.2f} s"
    )
    assert recovered_at > 0, "no replacement worker appeared"
    assert wrong == 0
    assert failed <= 1  # at most the request in flight on the killed worker (one connection at a time)
