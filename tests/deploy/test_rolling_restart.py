"""Rehearsal of a rolling update on loopback: 3 kami instances (Granian, 2 workers each) behind a real
HAProxy, sharing MariaDB and Redis, restarted one at a time (SIGTERM, wait, start, wait ready) under
continuous traffic. Promised: zero failed requests, every order answered 201 stored exactly once,
and rate limits and caches that agree across instances.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kami.db.config import normalise_url
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.haproxy import Balancer, run_haproxy
from tests.support.redis import forget
from tests.support.servers import KamiProcess, free_port, kami_env, start_kami, stop_kami
from tests.support.tokens import bearer

KEY = "r" * 40
BUYERS = 6
PROBE_LIMIT = 30
LOAD_LIMIT_SECONDS = 120  # the whole restart must fit; the load stops as soon as it is done


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _prepare(lb: str, admin: dict[str, str]) -> tuple[str, list[str]]:
    """One product with plenty of stock and BUYERS users with money, all created through the balancer."""
    with httpx.Client(base_url=lb, timeout=20) as client:
        product = client.post(
            "/app-b/v1/products",
            json={"name": "Rehearsal", "price": "1.00", "stock": 1_000_000},
            headers=admin,
        )
        assert product.status_code == 201, product.text
        tokens = []
        for n in range(BUYERS):
            user = {"email": f"buyer{n}@example.com", "username": f"buyer{n}", "password": "correct horse"}
            account = client.post("/accounts/v1/users", json=user)
            assert account.status_code == 201, account.text
            credit = client.post(
                f"/app-a/v1/wallets/{account.json()['data']['id']}/credit",
                json={"amount": "100000"},
                headers=admin,
            )
            assert credit.status_code == 200, credit.text
            login = client.post(
                "/accounts/v1/auth/login", json={"email": user["email"], "password": user["password"]}
            )
            tokens.append(login.json()["data"]["access_token"])
    return product.json()["data"]["id"], tokens


class Load:
    """Each buyer loops: place an order, read the product, read the list, read the product again."""

    def __init__(self, lb: str, product_id: str, tokens: list[str]) -> None:
        self.lb, self.product_id, self.tokens = lb, product_id, tokens
        self.outcomes: Counter[str] = Counter()
        self.created: list[str] = []
        self.failures: list[str] = []
        self.stop = threading.Event()

    async def _buyer(self, client: httpx.AsyncClient, token: str) -> None:
        order = {"items": [{"product_id": self.product_id, "quantity": 1}]}
        steps = [
            ("order", lambda: client.post("/app-a/v1/orders", json=order, headers=_headers(token)), 201),
            ("product", lambda: client.get(f"/app-b/v1/products/{self.product_id}"), 200),
            ("list", lambda: client.get("/app-b/v1/products"), 200),
            ("product", lambda: client.get(f"/app-b/v1/products/{self.product_id}"), 200),
        ]
        deadline = time.monotonic() + LOAD_LIMIT_SECONDS
        while not self.stop.is_set() and time.monotonic() < deadline:
            for name, send, expected in steps:
                try:
                    response = await send()
                except httpx.TransportError as exc:
                    self.failures.append(f"{name}: {type(exc).__name__}")
                    continue
                self.outcomes[f"{name} {response.status_code}"] += 1
                if response.status_code != expected:
                    self.failures.append(f"{name}: {response.status_code} {response.text[:200]}")
                elif name == "order":
                    self.created.append(response.json()["data"]["id"])

    async def _run(self) -> None:
        async with httpx.AsyncClient(base_url=self.lb, timeout=30) as client:
            await asyncio.gather(*(self._buyer(client, token) for token in self.tokens))

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=anyio.run, args=(self._run,), daemon=True)
        thread.start()
        return thread


async def _stored(url: str) -> tuple[int, int]:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as connection:
            orders = (await connection.execute(text("SELECT COUNT(*) FROM app_a_order"))).scalar_one()
            stock = (await connection.execute(text("SELECT stock FROM app_b_product"))).scalar_one()
            return int(orders), int(stock)
    finally:
        await engine.dispose()


def _roll(
    balancer: Balancer, instances: dict[str, KamiProcess], envs: dict[str, dict[str, str]]
) -> list[float]:
    """Restart each instance the way a rolling update does; return each one's time out of rotation."""
    away = []
    for name, running in list(instances.items()):
        started = time.monotonic()
        port = int(running.url.rsplit(":", 1)[1])
        assert stop_kami(running, signal.SIGTERM, timeout=30) == 0, running.output()
        balancer.wait_for(name, "DOWN", seconds=1)  # it left the rotation while still draining
        instances[name] = start_kami(envs[name], workers=2, ready_path="/health/ready", port=port)
        balancer.wait_for(name, "UP")
        away.append(round(time.monotonic() - started, 1))
    return away


def test_rolling_restart_under_load_loses_nothing(tmp_path: Path, mysql_at_head: Settings) -> None:
    redis_url = service_url("redis")
    forget(redis_url, "*")
    common = {
        "KAMI_DATABASE_URL": mysql_at_head.database_url,
        "KAMI_REDIS_URL": redis_url,
        "KAMI_SECRET_KEY": KEY,
        "KAMI_LOG_LEVEL": "warning",
        "KAMI_SERVER_DRAIN_SECONDS": "2",
        "KAMI_SERVER_GRACEFUL_TIMEOUT": "10",
        "KAMI_RATELIMIT_DEFAULT": "1000000/minute",
        "KAMI_RATELIMIT_TIERS": f"free=1000000/minute,probe={PROBE_LIMIT}/minute",
        "KAMI_RATELIMIT_TRUSTED_PROXIES": "127.0.0.1",
    }
    names = ["kami1", "kami2", "kami3"]
    envs = {name: kami_env(tmp_path / name, **common) for name in names}
    instances: dict[str, KamiProcess] = {}
    try:
        for name in names:
            instances[name] = start_kami(envs[name], workers=2, ready_path="/health/ready", port=free_port())
        ports = {name: int(running.url.rsplit(":", 1)[1]) for name, running in instances.items()}
        with run_haproxy(ports, tmp_path) as balancer:
            admin = bearer(KEY, redis_url)
            product_id, tokens = _prepare(balancer.url, admin)
            _, stock_before = anyio.run(_stored, mysql_at_head.database_url)

            load = Load(balancer.url, product_id, tokens)
            worker = load.start()
            time.sleep(1.0)
            away = _roll(balancer, instances, envs)
            time.sleep(1.0)
            load.stop.set()
            worker.join(timeout=60)

            report: dict[str, Any] = {"outcomes": dict(load.outcomes), "seconds out of rotation": away}
            assert load.failures == [], report
            assert load.outcomes["order 201"] > 0, report
            assert len(set(load.created)) == len(load.created)
            orders, stock_after = anyio.run(_stored, mysql_at_head.database_url)
            assert orders == len(load.created), report  # every 201 stored, nothing stored without one
            assert stock_before - stock_after == len(load.created)

            _rate_limit_is_shared(balancer)
            _caches_agree(balancer, instances, product_id, admin)
            print(f"\nrolling restart rehearsal: {report}")
    finally:
        for running in instances.values():
            stop_kami(running)


def _rate_limit_is_shared(balancer: Balancer) -> None:
    """One caller's limit is counted once across the three instances HAProxy spreads it over (on a
    route that needs a caller: routes anybody may call count the address)."""
    probe = bearer(KEY, service_url("redis"), "user", tier="probe")
    with httpx.Client(base_url=balancer.url, timeout=10) as client:
        statuses = Counter(
            client.get("/app-a/v1/orders", headers=probe).status_code for _ in range(2 * PROBE_LIMIT)
        )
    assert statuses == {200: PROBE_LIMIT, 429: PROBE_LIMIT}, statuses


def _caches_agree(
    balancer: Balancer, instances: dict[str, KamiProcess], product_id: str, admin: dict[str, str]
) -> None:
    """A change made through one instance is what every instance answers next, cached pages included."""

    def prices() -> set[tuple[str, str, str]]:
        """(instance, "list" or "one", price) for the product, as each instance answers it."""
        found: set[tuple[str, str, str]] = set()
        for running in instances.values():
            listed = httpx.get(running.url + "/app-b/v1/products", timeout=10).json()["data"]["items"]
            found |= {(running.url, "list", p["price"]) for p in listed if p["id"] == product_id}
            one = httpx.get(f"{running.url}/app-b/v1/products/{product_id}", timeout=10).json()["data"]
            found.add((running.url, "one", one["price"]))
        return found

    before = prices()
    assert {f[2] for f in before} == {"1.00"}, before  # every instance has now cached the list
    changed = httpx.patch(
        f"{balancer.url}/app-b/v1/products/{product_id}", json={"price": "2.50"}, headers=admin, timeout=10
    )
    assert changed.status_code == 200, changed.text
    after = prices()
    assert {f[2] for f in after} == {"2.50"}, after
