"""The embedded default (``uv run kami serve``: SQLite and the in-memory store) keeps every promise the
store makes, because it runs exactly one worker; asking for more without Redis is refused at start.

Every request here opens a fresh connection, so with several workers they would land on different
processes (and different in-memory stores)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.support.servers import admin_session, kami_env, run_kami, start_kami, stop_kami


def call(method: str, url: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
    """One request on a connection of its own."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(timeout=10) as client:
        return client.request(method, url, headers={**headers, **kwargs.pop("headers", {})}, **kwargs)


def test_the_embedded_default_runs_one_worker_and_keeps_its_promises(tmp_path: Path) -> None:
    assert (os.cpu_count() or 1) >= 2, "the point is a machine where 'one per CPU' would mean several"
    env = kami_env(tmp_path, KAMI_REFRESH_GRACE_SECONDS="0")  # a second use is a copy at once
    with run_kami(env, workers=None) as kami:
        server = psutil.Process(kami.process.pid)
        workers = [p for p in server.children(recursive=True) if "python" in p.name().lower()]
        assert len(workers) == 1, [p.cmdline() for p in workers]
        base = kami.url + "/accounts/v1"

        account = {"email": "solo@example.com", "username": "solo", "password": "correct horse"}
        user = call("POST", f"{base}/users", json=account).json()["data"]
        login = {"email": account["email"], "password": account["password"]}
        refresh = call("POST", f"{base}/auth/login", json=login).json()["data"]["refresh_token"]
        spent = [call("POST", f"{base}/auth/refresh", json={"refresh_token": refresh}) for _ in range(8)]
        # Once used, a refresh token is a copy: its session ends (1006), then is simply over (1005).
        assert [answer.json()["code"] for answer in spent] == [0, 1006] + [1005] * 6
        admin = admin_session(kami, env)["Authorization"].split()[1]  # created with `kami users create-admin`

        product = call(
            "POST",
            kami.url + "/app-b/v1/products",
            admin,
            json={"name": "Lamp", "price": "5.00", "stock": 50},
        ).json()["data"]
        call("POST", f"{kami.url}/app-a/v1/wallets/{user['id']}/credit", admin, json={"amount": "100.00"})
        buyer = call("POST", f"{base}/auth/login", json=login).json()["data"]["access_token"]
        order = {"items": [{"product_id": product["id"], "quantity": 1}]}
        answers = [
            call(
                "POST",
                f"{kami.url}/app-a/v1/orders",
                buyer,
                json=order,
                headers={"Idempotency-Key": "one-order"},
            )
            for _ in range(6)
        ]
        assert {answer.status_code for answer in answers} == {201}
        assert call("GET", f"{kami.url}/app-a/v1/orders", buyer).json()["data"]["total"] == 1
        assert call("GET", f"{kami.url}/app-b/v1/inventory/{product['id']}").json()["data"]["quantity"] == 49

        wrong = {"email": "nobody@example.com", "password": "not it"}
        attempts = [call("POST", f"{base}/auth/login", json=wrong).status_code for _ in range(12)]
        assert attempts == [200] * 10 + [429] * 2  # 10 per account per 15 minutes, not 10 per worker

        url = f"{kami.url}/app-b/v1/products/{product['id']}"
        assert call("GET", url).json()["data"]["price"] == "5.00"  # cached now
        assert call("PATCH", url, admin, json={"price": "7.00"}).status_code == 200
        assert {call("GET", url).json()["data"]["price"] for _ in range(10)} == {"7.00"}
    assert "workers=1" in kami.output()


@pytest.mark.parametrize(
    ("arguments", "variables", "named"),
    [(["--workers", "2"], {}, "--workers"), ([], {"KAMI_SERVER_WORKERS": "2"}, "KAMI_SERVER_WORKERS")],
)
def test_more_workers_without_redis_is_refused_naming_the_setting(
    tmp_path: Path, arguments: list[str], variables: dict[str, str], named: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kami", "serve", "--port", "0", *arguments],
        env=kami_env(tmp_path, **variables),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert named in done.stderr
    assert "KAMI_REDIS_URL" in done.stderr


def test_every_line_the_server_writes_is_structured(tmp_path: Path) -> None:
    """From start (migrations included) to a drained stop, one JSON object per line: library warnings
    (logging.captureWarnings) and the drain announcement too."""
    env = kami_env(tmp_path, KAMI_LOG_FORMAT="json", KAMI_SERVER_DRAIN_SECONDS="1")
    kami = start_kami(env, workers=None)
    try:
        assert call("GET", kami.url + "/").json()["data"]["docs"]["openapi"] == "/schema/openapi.json"
    finally:
        assert stop_kami(kami, signal.SIGTERM) == 0
    lines = [line for line in kami.output().splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # a plain-text line fails here, naming itself
    assert all({"event", "level", "timestamp"} <= set(event) for event in events), events
    said = [event["event"] for event in events]
    assert "database schema is up to date" in said
    assert any(text.startswith("draining") for text in said), said
    assert not [event for event in events if event.get("logger") == "py.warnings"], "a library warned"
