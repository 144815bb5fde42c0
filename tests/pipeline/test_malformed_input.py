"""A corpus of bad input against a real ``kami serve`` on MariaDB and Redis: every answer is an
envelope with the right status and code, never a 5xx, and nothing stored changes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
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
from tests.support.redis import forget
from tests.support.servers import KamiProcess, kami_env, run_kami
from tests.support.tokens import bearer

KEY = "m" * 40
INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE kami_account; --",
    '" OR ""="',
    "1; SELECT SLEEP(5)",
    "\\'; --",
    "%' --",
]
WRITES = [
    ("POST", "/accounts/v1/users"),
    ("POST", "/accounts/v1/auth/login"),
    ("POST", "/app-b/v1/products"),
    ("POST", "/app-a/v1/orders"),
    ("PATCH", "/app-b/v1/products/{id}"),
    ("PUT", "/app-b/v1/inventory/{id}"),
]


async def _snapshot(url: str) -> dict[str, Any]:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as connection:
            found = {}
            for table in ("kami_account", "app_a_wallet", "app_b_product", "app_a_order", "app_a_order_line"):
                found[table] = (await connection.execute(text(f"SELECT COUNT(*) FROM {table}"))).scalar_one()
            query = "SELECT name, price, stock, version FROM app_b_product ORDER BY name"
            found["products"] = [tuple(row) for row in (await connection.execute(text(query))).all()]
            query = (
                "SELECT a.username, w.balance FROM kami_account a "
                "LEFT JOIN app_a_wallet w ON w.account_id = a.id ORDER BY a.username"
            )
            found["users"] = [tuple(row) for row in (await connection.execute(text(query))).all()]
            return found
    finally:
        await engine.dispose()


@pytest.fixture
def server(tmp_path: Path, mysql_at_head: Settings) -> Iterator[tuple[KamiProcess, dict[str, str], str]]:
    forget(service_url("redis"), "ratelimit:*", "kami:attempts:*")
    env = kami_env(
        tmp_path,
        KAMI_DATABASE_URL=mysql_at_head.database_url,
        KAMI_REDIS_URL=service_url("redis"),
        KAMI_SECRET_KEY=KEY,
        KAMI_RATELIMIT_DEFAULT="100000/minute",
        KAMI_SERVER_MAX_BODY_SIZE="65536",
    )
    admin = bearer(KEY, service_url("redis"))
    with run_kami(env, workers=2) as kami, httpx.Client(base_url=kami.url, timeout=20) as client:
        product = client.post(
            "/app-b/v1/products", json={"name": "Sturdy", "price": "3.00", "stock": 9}, headers=admin
        )
        assert product.status_code == 201, product.text
        user = client.post(
            "/accounts/v1/users",
            json={"email": "m@example.com", "username": "malory", "password": "correct horse"},
        )
        assert user.status_code == 201, user.text
        yield kami, admin, product.json()["data"]["id"]


def _envelope(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code < 500, (
        answer.request.method,
        answer.request.url,
        answer.status_code,
        answer.text[:300],
    )
    body = answer.json()
    assert set(body) == {"code", "message", "data", "trace_id", "timestamp"}, body
    assert body["code"] != 0, body
    assert "Traceback" not in answer.text
    return dict(body)


def test_bad_input_is_refused_and_nothing_changes(
    server: tuple[KamiProcess, dict[str, str], str], mysql_at_head: Settings
) -> None:
    kami, admin, product_id = server
    before = anyio.run(_snapshot, mysql_at_head.database_url)
    seen: dict[tuple[int, int], int] = {}

    def record(answer: httpx.Response) -> dict[str, Any]:
        body = _envelope(answer)
        seen[(answer.status_code, body["code"])] = seen.get((answer.status_code, body["code"]), 0) + 1
        return body

    with httpx.Client(base_url=kami.url, timeout=20, headers=admin) as client:
        for method, template in WRITES:
            path = template.format(id=product_id)
            # A refused body may be left unread, and the server then closes: never reuse that connection.
            json_headers = {"content-type": "application/json", "connection": "close"}
            for body, status, code in (
                (b"{not json", 400, 3003),
                (b'{"a": 1,}', 400, 3003),
                (b"[" * 30_000 + b"]" * 30_000, 400, 3003),  # nested past any decoder (60 KB)
                (b'{"name": "\xff\xfe"}', 400, 3003),  # invalid UTF-8
                (b"x" * 70_000, 413, 3004),  # over KAMI_SERVER_MAX_BODY_SIZE
            ):
                answer = client.request(method, path, content=body, headers=json_headers)
                assert (answer.status_code, record(answer)["code"]) == (status, code), (
                    method,
                    path,
                    body[:20],
                )
            for content_type in ("text/plain", "application/xml", "application/x-www-form-urlencoded"):
                answer = client.request(method, path, content=b"a=1", headers={"content-type": content_type})
                assert 400 <= answer.status_code < 500
                record(answer)
            wrong_types = client.request(
                method, path, json={"email": 1, "name": [], "price": {}, "items": "x", "quantity": "many"}
            )
            assert wrong_types.status_code in (400, 401, 422), wrong_types.text
            record(wrong_types)

        # SQL-injection strings in every text field and filter: literal data, never SQL.
        for attack in INJECTIONS:
            assert record_ok(client.get("/app-b/v1/products", params={"name": attack}))["total"] == 0
            for field in ("sort", "page", "page_size", "min_price", "in_stock"):
                answer = client.get("/app-b/v1/products", params={field: attack})
                assert (answer.status_code, record(answer)["code"]) == (422, 3001), (field, attack)
            login = client.post("/accounts/v1/auth/login", json={"email": attack, "password": attack})
            assert record(login)["code"] in (1001, 3001, 4006)
            for path in (
                f"/app-b/v1/products/{attack}",
                f"/accounts/v1/users/{attack}",
                f"/app-b/v1/inventory/{attack}",
            ):
                assert client.get(path).status_code in (404, 422)

        # Paths that try to leave the assets folder.
        for path in (
            "/schema/assets/../../settings.py",
            "/schema/assets/%2e%2e/%2e%2e/settings.py",
            "/schema/assets/..%2f..%2fsettings.py",
            "/schema/assets//etc/passwd",
        ):
            answer = client.get(path)
            assert answer.status_code == 404, (path, answer.status_code)
            assert "root:" not in answer.text

    assert _oversized_header(kami.url) == 431
    assert anyio.run(_snapshot, mysql_at_head.database_url) == before  # nothing stored changed
    assert seen[(400, 3003)] >= 4 * len(WRITES)


def record_ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["data"])


def _oversized_header(url: str) -> int:
    """A 200 KB header: refused with 431 (KAMI_SERVER_MAX_HEADER_SIZE, 16 KB by default)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n")
        head = sock.recv(4096)
    return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 400
