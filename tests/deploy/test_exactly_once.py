"""Exactly-once orders under faults, on MariaDB and PostgreSQL, through a real ``kami serve``:

- the worker is killed right after the database committed an order and before it answered: the
  retry with the same key replays that order, and only one exists;
- Redis is flushed between an order and its retry: the retry replays (the key's record is in the
  database, committed with the order);
- orders and cancels of the same buyer and products in parallel loops: no deadlock ever reaches a
  client (locks are taken in one order, and a lost lock conflict is run again).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
from redis import Redis
from sqlalchemy.engine import make_url

from tests.conftest import service_url
from tests.support.backends import reset_schema
from tests.support.databases import settings_for
from tests.support.proxy import TcpProxy
from tests.support.redis import forget
from tests.support.servers import KamiProcess, admin_session, kami_env, run_kami
from tests.support.waiting import wait_until

KEY = "x" * 40
DEFAULT_PORTS = {"mysql": 3306, "postgres": 5432}


@pytest.fixture(params=["mysql", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, TcpProxy]]:
    """An emptied, migrated database, reached through a proxy the test controls."""
    real = make_url(service_url(request.param))
    real_url = real.render_as_string(hide_password=False)
    reset_schema(settings_for(real_url, tmp_path / "migrate"))
    parts = urlsplit(real_url)
    with TcpProxy(parts.hostname or "127.0.0.1", parts.port or DEFAULT_PORTS[request.param]) as proxy:
        yield real.set(port=proxy.port).render_as_string(hide_password=False), proxy


def _shop(kami: KamiProcess, env: dict[str, str], name: str, stock: int = 50) -> tuple[str, dict[str, str]]:
    """A product and a buyer with money, through the API; the product id and the buyer's headers."""
    admin = admin_session(kami, env)
    with httpx.Client(base_url=kami.url, timeout=20) as client:
        product = client.post(
            "/app-b/v1/products", json={"name": name, "price": "2.00", "stock": stock}, headers=admin
        )
        assert product.status_code == 201, product.text
        account = {"email": f"{name}@example.com", "username": name, "password": "correct horse"}
        user = client.post("/accounts/v1/users", json=account).json()["data"]
        client.post(f"/app-a/v1/wallets/{user['id']}/credit", json={"amount": "500.00"}, headers=admin)
    return product.json()["data"]["id"], _login(kami, name)


def _login(kami: KamiProcess, name: str) -> dict[str, str]:
    """A new session of the buyer ``name`` (a lost store ended the old ones: everyone logs in again)."""
    body = {"email": f"{name}@example.com", "password": "correct horse"}
    token = httpx.post(kami.url + "/accounts/v1/auth/login", json=body, timeout=20).json()["data"][
        "access_token"
    ]
    return {"Authorization": f"Bearer {token}"}


def _ready(kami: KamiProcess) -> bool:
    try:
        return httpx.get(kami.url + "/health/ready", timeout=5).status_code == 200
    except httpx.TransportError:  # the worker is being respawned
        return False


def _orders(kami: KamiProcess, buyer: dict[str, str]) -> list[dict[str, Any]]:
    answer = httpx.get(kami.url + "/app-a/v1/orders", headers=buyer, params={"page_size": 100}, timeout=20)
    return list(answer.json()["data"]["items"])


def test_a_worker_killed_after_commit_leaves_one_order_the_retry_replays(
    tmp_path: Path, database: tuple[str, TcpProxy]
) -> None:
    url, proxy = database
    env = kami_env(tmp_path, KAMI_DATABASE_URL=url, KAMI_SECRET_KEY=KEY, KAMI_DATABASE_PRE_PING="false")
    with run_kami(env, workers=1, ready_path="/health/ready") as kami:
        product, buyer = _shop(kami, env, "killed")
        order = {"items": [{"product_id": product, "quantity": 3}]}
        keyed = {**buyer, "Idempotency-Key": "order-after-commit"}
        worker = next(iter(psutil.Process(kami.process.pid).children()))
        outcome: dict[str, Any] = {}

        def place() -> None:
            try:
                outcome["answer"] = httpx.post(
                    kami.url + "/app-a/v1/orders", json=order, headers=keyed, timeout=30
                )
            except httpx.HTTPError as exc:
                outcome["error"] = exc

        proxy.hold_replies_after(b"COMMIT")
        first = threading.Thread(target=place)
        first.start()
        assert proxy.held.wait(20), "the order never reached COMMIT"
        os.kill(worker.pid, signal.SIGKILL)  # committed in the database; the worker never heard back
        first.join(timeout=30)
        proxy.release()
        assert "answer" not in outcome, "the client was answered before the kill"
        assert wait_until(lambda: _ready(kami), 30), "the respawned worker never became ready"
        buyer = _login(kami, "killed")  # the worker's in-memory sessions died with it
        keyed = {**buyer, "Idempotency-Key": "order-after-commit"}
        retry = httpx.post(kami.url + "/app-a/v1/orders", json=order, headers=keyed, timeout=30)
        assert (retry.status_code, retry.headers.get("idempotent-replayed")) == (201, "true"), retry.text
        orders = _orders(kami, buyer)
        assert [o["id"] for o in orders] == [retry.json()["data"]["id"]]
        stock = httpx.get(f"{kami.url}/app-b/v1/inventory/{product}", timeout=20).json()["data"]["quantity"]
        assert stock == 47


def test_a_flushed_redis_does_not_run_a_key_twice(tmp_path: Path, database: tuple[str, TcpProxy]) -> None:
    url, _ = database
    redis_url = service_url("redis")
    forget(redis_url, "ratelimit:*")  # earlier tests' logins from this address
    env = kami_env(tmp_path, KAMI_DATABASE_URL=url, KAMI_SECRET_KEY=KEY, KAMI_REDIS_URL=redis_url)
    with run_kami(env, workers=1, ready_path="/health/ready") as kami:
        product, buyer = _shop(kami, env, "flushed")
        order = {"items": [{"product_id": product, "quantity": 1}]}
        keyed = {**buyer, "Idempotency-Key": "order-before-flush"}
        first = httpx.post(kami.url + "/app-a/v1/orders", json=order, headers=keyed, timeout=20)
        assert first.status_code == 201, first.text
        Redis.from_url(redis_url).flushdb()  # a Redis restart without persistence: sessions are gone too
        buyer = _login(kami, "flushed")
        keyed = {**buyer, "Idempotency-Key": "order-before-flush"}
        again = httpx.post(kami.url + "/app-a/v1/orders", json=order, headers=keyed, timeout=20)
        assert (again.status_code, again.headers.get("idempotent-replayed")) == (201, "true"), again.text
        assert again.json()["data"]["id"] == first.json()["data"]["id"]
        assert len(_orders(kami, buyer)) == 1


def test_orders_and_cancels_in_parallel_never_answer_a_deadlock(
    tmp_path: Path, database: tuple[str, TcpProxy]
) -> None:
    url, _ = database
    env = kami_env(tmp_path, KAMI_DATABASE_URL=url, KAMI_SECRET_KEY=KEY, KAMI_RATELIMIT_ENABLED="false")
    with run_kami(env, workers=1, ready_path="/health/ready") as kami:
        first, buyer = _shop(kami, env, "contended", stock=100_000)
        with httpx.Client(base_url=kami.url, timeout=20) as admin:
            second = admin.post(
                "/app-b/v1/products",
                json={"name": "contended-2", "price": "1.00", "stock": 100_000},
                headers=admin_session(kami, env),
            ).json()["data"]["id"]
        lines = {"items": [{"product_id": second, "quantity": 1}, {"product_id": first, "quantity": 1}]}
        placed: list[str] = []
        answers: list[tuple[int, int]] = []
        lock = threading.Lock()
        stop = time.monotonic() + 8

        def order_loop() -> None:
            with httpx.Client(base_url=kami.url, timeout=30, headers=buyer) as client:
                while time.monotonic() < stop:
                    answer = client.post("/app-a/v1/orders", json=lines)
                    with lock:
                        answers.append((answer.status_code, answer.json()["code"]))
                        if answer.status_code == 201:
                            placed.append(answer.json()["data"]["id"])

        def cancel_loop() -> None:
            with httpx.Client(base_url=kami.url, timeout=30, headers=buyer) as client:
                while time.monotonic() < stop:
                    with lock:
                        target = placed.pop(0) if placed else None
                    if target is None:
                        time.sleep(0.005)
                        continue
                    answer = client.post(f"/app-a/v1/orders/{target}/cancel")
                    with lock:
                        answers.append((answer.status_code, answer.json()["code"]))

        threads = [
            threading.Thread(target=loop) for loop in (order_loop, order_loop, cancel_loop, cancel_loop)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        refused = [a for a in answers if a[0] >= 500]
        cancels = sum(1 for a in answers if a == (200, 0))
        assert cancels >= 20, f"too little contention to mean anything: {len(answers)} answers"
        assert refused == [], (
            f"{len(refused)} of {len(answers)} answers were refusals: {sorted(set(refused))}"
        )
