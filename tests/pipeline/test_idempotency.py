"""Idempotent routes through the real app, on SQLite, MariaDB and PostgreSQL: a key's answer is
replayed with the retry's own trace id, a reused key and a key still running have their own codes,
failures are not kept, nothing needs Redis, and other routes refuse a key."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from litestar import post
from litestar.params import JSONBody
from litestar.testing import TestClient

from kami import ApiResponse, AppSpec, route_options, success
from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.proxy import TcpProxy
from tests.support.servers import kami_env, run_kami

runs = {"count": 0}


@post("/charge", summary="c", description="c", opt=route_options(idempotent=True))
async def charge(data: JSONBody[dict[str, int]]) -> ApiResponse[int]:
    runs["count"] += 1
    if data.get("fail"):
        raise RuntimeError("upstream exploded")
    await asyncio.sleep(data.get("sleep", 0) / 1000)
    return success(runs["count"])


@post("/plain", summary="p", description="p")
async def plain() -> ApiResponse[None]:
    return success(None)


SPEC = AppSpec(name="idem", prefix="/idem", code_range=range(95000, 95100), route_handlers=[charge, plain])


def test_replay_mismatch_failures_and_refusals(db_settings: Settings) -> None:
    runs["count"] = 0
    with TestClient(create_app(db_settings, [SPEC]), raise_server_exceptions=False) as client:
        key = {"Idempotency-Key": "k-1"}
        first = client.post("/idem/charge", json={"amount": 5}, headers=key)
        again = client.post("/idem/charge", json={"amount": 5}, headers=key)
        assert first.status_code == again.status_code == 201
        assert first.json()["data"] == again.json()["data"] == 1
        assert runs["count"] == 1
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert again.json()["trace_id"] != first.json()["trace_id"]  # the replaying request's own
        assert again.json()["trace_id"] == again.headers["x-trace-id"]
        other = client.post("/idem/charge", json={"amount": 6}, headers=key)
        assert (other.status_code, other.json()["code"]) == (409, 4008)
        without = client.post("/idem/charge", json={"amount": 5})
        assert without.json()["data"] == 2  # no key: no deduplication

        failing = {"Idempotency-Key": "k-2"}
        assert client.post("/idem/charge", json={"fail": 1}, headers=failing).status_code == 500
        assert client.post("/idem/charge", json={"fail": 1}, headers=failing).status_code == 500
        assert runs["count"] == 4  # a failure is not kept: the retry ran again
        too_long = client.post("/idem/charge", json={"amount": 1}, headers={"Idempotency-Key": "x" * 300})
        assert too_long.status_code == 422
        refused = client.post("/idem/plain", headers={"Idempotency-Key": "k-3"})
        assert (refused.status_code, refused.json()["code"]) == (422, 3006)
        assert client.post("/idem/plain").status_code == 201


def test_a_key_still_running_is_answered_at_once(db_settings: Settings) -> None:
    """The second request with a key whose first is still in its transaction gets 409 / 4009 with
    Retry-After at once; after the first commits, a retry replays it."""
    runs["count"] = 0
    with TestClient(create_app(db_settings, [SPEC]), raise_server_exceptions=False) as client:
        key = {"Idempotency-Key": "slow-1"}
        answers: dict[str, Any] = {}

        def first() -> None:
            answers["first"] = client.post("/idem/charge", json={"sleep": 1500}, headers=key)

        running = threading.Thread(target=first)
        running.start()
        deadline = threading.Event()
        deadline.wait(0.5)  # the first is inside its transaction now
        second = client.post("/idem/charge", json={"sleep": 1500}, headers=key)
        running.join(timeout=30)
        assert (second.status_code, second.json()["code"]) == (409, 4009), second.text
        assert second.headers["retry-after"] == "1"
        assert answers["first"].status_code == 201
        retry = client.post("/idem/charge", json={"sleep": 1500}, headers=key)
        assert (retry.status_code, retry.headers["idempotent-replayed"]) == (201, "true")
        assert runs["count"] == 1


def test_keyed_requests_need_no_redis(make_settings: Any) -> None:
    """The record lives in the database: with Redis cut, a keyed request runs, and a retry replays."""
    target = urlsplit(service_url("redis"))
    runs["count"] = 0
    with TcpProxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        settings = make_settings(
            KAMI_REDIS_URL=f"redis://127.0.0.1:{proxy.port}/15",
            KAMI_REDIS_SOCKET_TIMEOUT="0.5",
            KAMI_DATABASE_AUTO_MIGRATE="true",
        )
        with TestClient(create_app(settings, [SPEC]), raise_server_exceptions=False) as client:
            proxy.cut()
            keyed = client.post("/idem/charge", json={"amount": 1}, headers={"Idempotency-Key": "cut-1"})
            assert keyed.status_code == 201, keyed.text
            again = client.post("/idem/charge", json={"amount": 1}, headers={"Idempotency-Key": "cut-1"})
            assert (again.status_code, again.json()["data"]) == (201, keyed.json()["data"])
            assert runs["count"] == 1
            proxy.restore()


def _raw_post(url: str, head: bytes, body: bytes, *, wait: float = 10) -> tuple[int, float]:
    """Send ``head`` and ``body`` on a socket of its own; the status and how long the answer took."""
    import socket
    import time

    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(head + body)
        answer = sock.recv(4096)
    return int(answer.split(b" ", 2)[1]), time.monotonic() - started


def test_a_keyed_body_is_never_buffered_past_the_body_limit(tmp_path: Path) -> None:
    """An 8 MiB POST announced with an Idempotency-Key is refused at once (413), not read into memory;
    a chunked one is refused as soon as it passes the limit."""
    with run_kami(kami_env(tmp_path), ready_path="/health/ready") as kami:
        announced = (
            b"POST /accounts/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Idempotency-Key: big-1\r\nContent-Length: 8388608\r\n\r\n"
        )
        status, seconds = _raw_post(kami.url, announced, b"{" * 1000)  # the rest never comes
        assert status == 413
        assert seconds < 5
        chunked = (
            b"POST /accounts/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Idempotency-Key: big-2\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 65536
        body = b"".join(b"%x\r\n%b\r\n" % (len(chunk), chunk) for _ in range(32))  # 2 MiB, no end
        status, _ = _raw_post(kami.url, chunked, body)
        assert status == 413
        answer = httpx.post(
            kami.url + "/accounts/v1/users",
            json={"email": "ok@example.com", "username": "okay", "password": "correct horse"},
            headers={"Idempotency-Key": "small"},
        )
        assert answer.status_code == 201  # a body within the limit is still served


def test_anonymous_callers_behind_a_trusted_proxy_are_told_apart(tmp_path: Path) -> None:
    """The idempotency record is keyed by the client a trusted proxy reports, as rate limits are:
    two clients behind one proxy may pick the same key without getting each other's answers."""
    env = kami_env(tmp_path, KAMI_RATELIMIT_TRUSTED_PROXIES="127.0.0.1")
    with run_kami(env, ready_path="/health/ready") as kami:
        answers = [
            httpx.post(
                kami.url + "/accounts/v1/users",
                json={"email": f"{name}@example.com", "username": name, "password": "correct horse"},
                headers={"Idempotency-Key": "signup", "X-Forwarded-For": address},
            )
            for name, address in (("first", "198.51.100.1"), ("second", "198.51.100.2"))
        ]
        assert [answer.status_code for answer in answers] == [201, 201]
        assert answers[0].json()["data"]["id"] != answers[1].json()["data"]["id"]
