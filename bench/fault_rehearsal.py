"""Keyed orders while the database, Redis, a worker and the whole server fail, then a reconciliation.

    uv run python bench/fault_rehearsal.py \\
        --database-url mysql+asyncmy://user:pass@127.0.0.1:3306/kami_bench \\
        --redis-url redis://127.0.0.1:6379/14 [--seconds 40 --clients 16]

``kami serve`` (2 workers) reaches MariaDB and Redis through proxies this script controls. Clients
place one-line orders, each with its own ``Idempotency-Key``, and retry every answer that is not final
(a dropped connection, 503, 409 "still running") with the same key and body until it is. Meanwhile,
at fixed points of the run: the database is cut for 2 s, Redis is cut for 2 s, a worker is killed
(SIGKILL), and the whole server is stopped (SIGTERM) and started again on the same port.

Reported, and what each must be: keys answered 201; orders stored (= keys answered 201); keys
answered with more than one order (0); orders stored that no client was told about (0); every
product's stock and every buyer's balance reconciled with the orders stored (true). Only loopback is
targeted; every wait is bounded. ``tests/deploy/test_fault_rehearsal.py`` runs a short rehearsal.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import psutil
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kami.db.config import normalise_url  # noqa: E402
from tests.support.backends import reset_schema  # noqa: E402
from tests.support.databases import settings_for  # noqa: E402
from tests.support.proxy import TcpProxy  # noqa: E402
from tests.support.servers import (  # noqa: E402
    KamiProcess,
    admin_session,
    free_port,
    kami_env,
    start_kami,
    stop_kami,
)

SECRET = "r" * 40
NOT_FINAL_CODES = {4009, 5001, 5003, 5004, 5005}
STOCK, PRICE, BALANCE = 100_000, Decimal("1.00"), Decimal("100000.00")


@dataclass
class Report:
    seconds: float
    keys_sent: int = 0
    answered_201: int = 0
    answered_business_failure: int = 0
    gave_up: int = 0  # keys still without a final answer when the retry budget ran out
    retries: int = 0
    orders_stored: int = 0
    keys_with_more_than_one_order: int = 0
    orders_nobody_was_told_about: int = 0
    stock_reconciled: bool = False
    balances_reconciled: bool = False
    faults: list[str] = field(default_factory=list)

    @property
    def exactly_once(self) -> bool:
        return (
            self.keys_with_more_than_one_order == 0
            and self.orders_nobody_was_told_about == 0
            and self.orders_stored == self.answered_201
            and self.stock_reconciled
            and self.balances_reconciled
        )


class _Server:
    """kami serve on a fixed port, which the rehearsal stops and starts again."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.process: KamiProcess = start_kami(env, workers=2, port=self.port, ready_path="/health/ready")
        self.url = self.process.url

    def kill_a_worker(self) -> None:
        workers = psutil.Process(self.process.process.pid).children()
        if workers:
            os.kill(workers[0].pid, signal.SIGKILL)

    def restart(self) -> None:
        stop_kami(self.process, signal.SIGTERM, timeout=60)
        self.process = start_kami(self.env, workers=2, port=self.port, ready_path="/health/ready")

    def stop(self) -> None:
        stop_kami(self.process)


def _seed(url: str, buyers: int, admin: dict[str, str]) -> tuple[list[str], list[dict[str, str]]]:
    with httpx.Client(base_url=url, timeout=30) as client:
        products = []
        for n in range(3):
            made = client.post(
                "/app-b/v1/products",
                json={"name": f"rehearsal {n}", "price": str(PRICE), "stock": STOCK},
                headers=admin,
            )
            products.append(made.json()["data"]["id"])
        heads = []
        for n in range(buyers):
            account = {"email": f"buyer{n}@example.com", "username": f"buyer{n}", "password": "correct horse"}
            user = client.post("/accounts/v1/users", json=account).json()["data"]
            client.post(
                f"/app-a/v1/wallets/{user['id']}/credit", json={"amount": str(BALANCE)}, headers=admin
            )
            login = client.post(
                "/accounts/v1/auth/login", json={"email": account["email"], "password": "correct horse"}
            )
            heads.append({"Authorization": f"Bearer {login.json()['data']['access_token']}"})
    return products, heads


def _final(answer: httpx.Response | None) -> bool:
    if answer is None:
        return False
    try:
        code = answer.json().get("code")
    except ValueError:
        return False
    return answer.status_code < 500 and code not in NOT_FINAL_CODES


def _client(
    url: Callable[[], str],
    products: list[str],
    buyer: dict[str, str],
    report: Report,
    told: dict[str, set[str]],
    stop_at: float,
    lock: threading.Lock,
) -> None:
    while time.monotonic() < stop_at:
        key = str(uuid.uuid4())
        body = {"items": [{"product_id": random.choice(products), "quantity": random.randint(1, 3)}]}
        with lock:
            report.keys_sent += 1
        answer: httpx.Response | None = None
        give_up = time.monotonic() + 90  # past the end of the run: every fault has been restored by then
        tries = 0
        while not _final(answer) and time.monotonic() < give_up:
            if tries:
                time.sleep(0.2)
            tries += 1
            try:
                answer = httpx.post(
                    url() + "/app-a/v1/orders",
                    json=body,
                    headers={**buyer, "Idempotency-Key": key},
                    timeout=20,
                )
            except httpx.HTTPError:
                answer = None
        with lock:
            report.retries += tries - 1
            if answer is None or not _final(answer):
                report.gave_up += 1
            elif answer.status_code == 201:
                report.answered_201 += 1
                told.setdefault(key, set()).add(answer.json()["data"]["id"])
            else:
                report.answered_business_failure += 1


def _uuid(value: Any) -> str:
    return str(uuid.UUID(bytes=value)) if isinstance(value, bytes) else str(value)


async def _stored(database_url: str) -> tuple[list[str], bool, bool]:
    engine = create_async_engine(normalise_url(database_url))
    try:
        async with engine.connect() as db:
            orders = [_uuid(row[0]) for row in await db.execute(text("SELECT id FROM app_a_order"))]
            sold = dict(
                (
                    await db.execute(
                        text("SELECT product_id, SUM(quantity) FROM app_a_order_line GROUP BY product_id")
                    )
                ).all()
            )
            stock = (await db.execute(text("SELECT id, stock FROM app_b_product"))).all()
            stock_ok = all(int(left) + int(sold.get(pid, 0)) == STOCK for pid, left in stock)
            spent = dict(
                (await db.execute(text("SELECT user_id, SUM(total) FROM app_a_order GROUP BY user_id"))).all()
            )
            buyers = text(  # every buyer's wallet (the admin has none)
                "SELECT w.account_id, w.balance FROM app_a_wallet w "
                "JOIN kami_account a ON a.id = w.account_id WHERE a.role = 'user'"
            )
            balances = (await db.execute(buyers)).all()
            balance_ok = all(Decimal(left) + Decimal(spent.get(uid, 0)) == BALANCE for uid, left in balances)
    finally:
        await engine.dispose()
    return orders, stock_ok, balance_ok


def rehearse(
    database_url: str, redis_url: str, *, seconds: float = 40, clients: int = 16, folder: Path
) -> Report:
    reset_schema(settings_for(database_url, folder / "migrate"))
    db_parts, redis_parts = urlsplit(database_url), urlsplit(redis_url)
    report = Report(seconds=seconds)
    with (
        TcpProxy(db_parts.hostname or "127.0.0.1", db_parts.port or 3306) as db,
        TcpProxy(redis_parts.hostname or "127.0.0.1", redis_parts.port or 6379) as cache,
    ):
        proxied_db = make_url(database_url).set(port=db.port).render_as_string(hide_password=False)
        env = kami_env(
            folder,
            KAMI_DATABASE_URL=proxied_db,
            KAMI_REDIS_URL=f"redis://127.0.0.1:{cache.port}{redis_parts.path}",
            KAMI_REDIS_SOCKET_TIMEOUT="0.5",
            KAMI_DATABASE_CONNECT_TIMEOUT="2",
            KAMI_DATABASE_POOL_TIMEOUT="5",
            KAMI_SECRET_KEY=SECRET,
            KAMI_RATELIMIT_ENABLED="false",
            KAMI_SERVER_DRAIN_SECONDS="1",
        )
        server = _Server(env)
        try:
            products, buyers = _seed(server.url, clients, admin_session(server.process, env))
            told: dict[str, set[str]] = {}
            lock = threading.Lock()
            start = time.monotonic()
            threads = [
                threading.Thread(
                    target=_client,
                    args=(lambda: server.url, products, buyers[n], report, told, start + seconds, lock),
                )
                for n in range(clients)
            ]
            for thread in threads:
                thread.start()
            schedule: list[tuple[float, str, Callable[[], None]]] = [
                (0.15, "database cut for 2 s", lambda: (db.cut(), time.sleep(2), db.restore())),
                (0.35, "Redis cut for 2 s", lambda: (cache.cut(), time.sleep(2), cache.restore())),
                (0.55, "a worker killed (SIGKILL)", server.kill_a_worker),
                (0.75, "the server stopped (SIGTERM) and started again", server.restart),
            ]
            for at, name, fault in schedule:
                time.sleep(max(0.0, start + at * seconds - time.monotonic()))
                fault()
                report.faults.append(name)
            for thread in threads:
                thread.join(timeout=seconds + 120)
        finally:
            server.stop()
    orders, report.stock_reconciled, report.balances_reconciled = anyio.run(_stored, database_url)
    report.orders_stored = len(orders)
    report.keys_with_more_than_one_order = sum(1 for ids in told.values() if len(ids) > 1)
    answered = {order for ids in told.values() for order in ids}
    report.orders_nobody_was_told_about = len(set(orders) - answered)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--clients", type=int, default=16)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report = rehearse(
            arguments.database_url,
            arguments.redis_url,
            seconds=arguments.seconds,
            clients=arguments.clients,
            folder=Path(folder),
        )
    print(json.dumps(asdict(report) | {"exactly_once": report.exactly_once}, indent=2))
    sys.exit(0 if report.exactly_once else 1)


if __name__ == "__main__":
    main()
