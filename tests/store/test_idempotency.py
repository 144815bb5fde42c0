"""Idempotency keys through the real app: replay, mismatch, failures not recorded, Redis outage."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from litestar import post
from litestar.params import JSONBody
from litestar.testing import TestClient

from kami import ApiResponse, AppSpec, success
from kami.server import create_app
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.proxy import TcpProxy

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
