"""``kami_db_query_duration_seconds``: every statement timed once, by kind, whichever way it reached
the database (SQLAlchemy's execution, or kami's lean path to the driver), on every backend."""

from __future__ import annotations

import re

from litestar.testing import TestClient

from kami.db.statement_timing import statement_kind

Client = TestClient  # type: ignore[type-arg]


def _counts(client: Client) -> dict[str, float]:
    text = client.get("/metrics").text
    return {
        kind: float(value)
        for kind, value in re.findall(
            r'^kami_db_query_duration_seconds_count\{kind="(\w+)"\} (\S+)$', text, re.M
        )
    }


def _added(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before.get(k, 0.0) for k in after if after[k] != before.get(k, 0.0)}


def test_every_statement_is_timed_once_by_kind(client: Client, admin_headers: dict[str, str]) -> None:
    before = _counts(client)
    created = client.post(
        "/app-b/v1/products", json={"name": "Timed", "price": "1.00", "stock": 3}, headers=admin_headers
    )
    assert created.status_code == 201, created.text
    after_write = _counts(client)
    assert _added(before, after_write).get("insert") == 1  # the product's one INSERT

    product = created.json()["data"]["id"]
    for _ in range(10):
        assert client.get(f"/app-b/v1/inventory/{product}").status_code == 200  # the lean read path
    after_read = _counts(client)
    added = _added(after_write, after_read)
    assert not {"insert", "update", "delete"} & set(added)
    # one SELECT per read, counted once; the worker's own readiness check (every 5 s, a SELECT or two)
    # may have run meanwhile
    assert 10 <= added["select"] <= 14, added

    assert client.get("/app-b/v1/products?page=1&page_size=5").status_code == 200  # through the ORM
    assert _added(after_read, _counts(client)).get("select", 0) >= 1


def test_statement_kinds() -> None:
    assert [
        statement_kind(sql)
        for sql in ("SELECT 1", "  insert into t", "UPDATE t SET", "delete from t", "COMMIT", "SET NAMES x")
    ] == ["select", "insert", "update", "delete", "other", "other"]
