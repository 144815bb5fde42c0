"""Idempotency keys through the real app: replay, mismatch, failures not recorded, Redis outage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from litestar import post
from litestar.params import JSONBody
from litestar.testing import TestClient

from kami import ApiResponse, AppSpec, success
from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.proxy import TcpProxy
from tests.support.servers import kami_env, run_kami

runs = {"count": 0}


@post("/charge", summary="c", description="c")
async def charge(data: JSONBody[dict[str, int]]) -> ApiResponse[int]:
    runs["count"] += 1
    if data.get("fail"):
        raise RuntimeError("upstream exploded")
    return success(runs["count"])


SPEC = AppSpec(name="idem", prefix="/idem", code_range=range(95000, 95100), route_handlers=[charge])


def test_replay_mismatch_and_failures(make_settings: Callable[..., Settings]) -> None:
    runs["count"] = 0
    with TestClient(create_app(make_settings(), [SPEC]), raise_server_exceptions=False) as client:
        key = {"Idempotency-Key": "k-1"}
        first = client.post("/idem/charge", json={"amount": 5}, headers=key)
        again = client.post("/idem/charge", json={"amount": 5}, headers=key)
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        assert runs["count"] == 1
        other = client.post("/idem/charge", json={"amount": 6}, headers=key)
        assert (other.status_code, other.json()["code"]) == (409, 4008)
        without = client.post("/idem/charge", json={"amount": 5})
        assert without.json()["data"] == 2  # no key: no deduplication

        failing = {"Idempotency-Key": "k-2"}
        assert client.post("/idem/charge", json={"fail": 1}, headers=failing).status_code == 500
        assert client.post("/idem/charge", json={"fail": 1}, headers=failing).status_code == 500
        assert runs["count"] == 4  # a 5xx is not recorded: the retry ran again
        too_long = client.post("/idem/charge", json={"amount": 1}, headers={"Idempotency-Key": "x" * 300})
        assert too_long.status_code == 422


def test_redis_outage_answers_503_for_keyed_requests(make_settings: Callable[..., Settings]) -> None:
    target = urlsplit(service_url("redis"))
    with TcpProxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        settings = make_settings(
            KAMI_REDIS_URL=f"redis://127.0.0.1:{proxy.port}/15", KAMI_REDIS_SOCKET_TIMEOUT="0.5"
        )
        with TestClient(create_app(settings, [SPEC]), raise_server_exceptions=False) as client:
            proxy.cut()
            keyed = client.post("/idem/charge", json={"amount": 1}, headers={"Idempotency-Key": "cut-1"})
            assert (keyed.status_code, keyed.json()["code"]) == (503, 5003)
            assert client.post("/idem/charge", json={"amount": 1}).status_code == 201  # fail-open limits
            proxy.restore()
            assert (
                client.post(
                    "/idem/charge", json={"amount": 1}, headers={"Idempotency-Key": "cut-2"}
                ).status_code
                == 201
            )


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
            b"POST /app-a/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Idempotency-Key: big-1\r\nContent-Length: 8388608\r\n\r\n"
        )
        status, seconds = _raw_post(kami.url, announced, b"{" * 1000)  # the rest never comes
        assert status == 413
        assert seconds < 5
        chunked = (
            b"POST /app-a/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Idempotency-Key: big-2\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 65536
        body = b"".join(b"%x\r\n%b\r\n" % (len(chunk), chunk) for _ in range(32))  # 2 MiB, no end
        status, _ = _raw_post(kami.url, chunked, body)
        assert status == 413
        answer = httpx.post(
            kami.url + "/app-a/v1/users",
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
                kami.url + "/app-a/v1/users",
                json={"email": f"{name}@example.com", "username": name, "password": "correct horse"},
                headers={"Idempotency-Key": "signup", "X-Forwarded-For": address},
            )
            for name, address in (("first", "198.51.100.1"), ("second", "198.51.100.2"))
        ]
        assert [answer.status_code for answer in answers] == [201, 201]
        assert answers[0].json()["data"]["id"] != answers[1].json()["data"]["id"]
