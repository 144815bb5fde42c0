"""HEAD wherever GET (RFC 9110, 9.3.2): the GET answer's status and headers, no content; and the
Prometheus exposition names its charset once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient

from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.support.servers import kami_env, run_kami

Client = TestClient  # type: ignore[type-arg]
SAME = ("content-type", "cache-control", "x-content-type-options")
# (path, same content every time): a readiness report times its checks, metrics count requests
GET_ROUTES = [
    ("/", True),
    ("/health/live", False),
    ("/health/ready", False),
    ("/metrics", False),
    ("/schema/openapi.json", True),
    ("/app-b/v1/products", True),
]


@pytest.fixture
def client(sqlite_settings: Settings) -> Iterator[Client]:
    with TestClient(create_app(sqlite_settings)) as c:
        yield c


@pytest.mark.parametrize(("path", "stable"), GET_ROUTES)
def test_head_answers_what_get_answers_without_the_content(client: Client, path: str, stable: bool) -> None:
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    for name in SAME:
        assert head.headers.get(name) == got.headers.get(name), name
    assert int(head.headers["content-length"]) > 0
    if stable:
        assert head.headers["content-length"] == got.headers["content-length"]
    assert head.headers["x-trace-id"] != got.headers["x-trace-id"]  # a request of its own


def test_head_follows_get_where_get_refuses(client: Client) -> None:
    """No GET route: 405 as for GET; an unknown path: 404; a guarded GET: the guard's 401."""
    for path, status in (("/accounts/v1/auth/login", 405), ("/nowhere", 404), ("/accounts/v1/users/me", 401)):
        head = client.head(path)
        assert (head.status_code, head.content) == (status, b""), path
        assert head.headers["content-length"] == client.get(path).headers["content-length"]


def test_options_lists_head_with_get(client: Client) -> None:
    allow = {m.strip() for m in client.options("/app-b/v1/products").headers["allow"].split(",")}
    assert {"GET", "HEAD", "POST", "OPTIONS"} <= allow
    allow = {m.strip() for m in client.options("/accounts/v1/auth/login").headers["allow"].split(",")}
    assert "HEAD" not in allow


def test_metrics_name_their_charset_once(client: Client) -> None:
    content_type = client.get("/metrics").headers["content-type"]
    assert content_type.startswith("text/plain; version=")
    assert content_type.count("charset=") == 1, content_type


def test_head_over_granian_keeps_the_connection_in_step(tmp_path: Path) -> None:
    """On the real server, a HEAD answer carries GET's Content-Length and no bytes of content: the
    next answer on the same connection parses, and the access line says HEAD."""
    with (
        run_kami(kami_env(tmp_path, KAMI_LOG_FORMAT="json")) as kami,
        httpx.Client(base_url=kami.url) as http,
    ):
        head = http.head("/app-b/v1/products")
        got = http.get("/app-b/v1/products")  # the same keep-alive connection
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == got.headers["content-length"] != "0"
        assert got.json()["code"] == 0
    lines = [json.loads(line) for line in kami.output().splitlines() if line.startswith("{")]
    access = {line["trace_id"]: line for line in lines if line["logger"] == "kami.access"}
    line = access[head.headers["x-trace-id"]]
    assert (line["method"], line["route"], line["status"]) == ("HEAD", "/app-b/v1/products", 200)
