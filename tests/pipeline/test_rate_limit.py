"""Rate limiting through the real application: limits, headers, identities, tiers and outages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar import get
from litestar.testing import TestClient

from kami import ApiResponse, AppSpec, Permission, RateLimit, route_options, success
from kami.pipeline.app import create_app
from kami.security import require
from kami.security.trusted_proxies import TrustedProxies
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.proxy import TcpProxy
from tests.support.redis import forget
from tests.support.tokens import session_headers

KEY = "s" * 40


@get("/open", summary="open", description="open")
async def open_route() -> ApiResponse[str]:
    return success("ok")


@get("/tight", opt=route_options(rate_limit=RateLimit(2)), summary="tight", description="tight")
async def tight_route() -> ApiResponse[str]:
    return success("ok")


READ = Permission("things.read", "Read things", granted_to_users=True)


@get("/mine", guards=[require(READ)], summary="mine", description="mine")
async def mine_route() -> ApiResponse[str]:
    return success("ok")


def limited_app(rate_limit: RateLimit | None = None) -> AppSpec:
    return AppSpec(
        name="limited",
        prefix="/limited",
        code_range=range(91000, 91100),
        route_handlers=[open_route, tight_route, mine_route],
        rate_limit=rate_limit,
        permissions=[READ],
    )


@pytest.fixture(params=["memory", "redis"])
def store_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "memory":
        return {}
    url = service_url("redis")
    forget(url, "ratelimit:*")
    return {"KAMI_REDIS_URL": url}


@pytest.fixture
def client_for(
    make_settings: Callable[..., Settings], store_env: dict[str, str]
) -> Iterator[Callable[..., TestClient]]:  # type: ignore[type-arg]
    opened: list[TestClient] = []  # type: ignore[type-arg]

    def build(spec: AppSpec | None = None, **env: str) -> TestClient:  # type: ignore[type-arg]
        settings = make_settings(KAMI_SECRET_KEY=KEY, **store_env, **env)
        client = TestClient(create_app(settings, [spec or limited_app()]), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield build
    for client in opened:
        client.__exit__(None, None, None)


def test_limit_headers_and_429_envelope(client_for: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    client = client_for(KAMI_RATELIMIT_DEFAULT="3/minute")
    answers = [client.get("/limited/open") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["RateLimit-Limit"] == "3" for a in answers)
    refused = answers[-1]
    assert refused.json()["code"] == 4006
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(refused.json()["trace_id"]) == 32
    for path in ("/health/live", "/"):  # kami's own routes never pass through the apps' layers
        for _ in range(5):
            assert client.get(path).status_code == 200
        assert "RateLimit-Limit" not in client.get(path).headers


def test_route_app_identity_and_tier_limits(client_for: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    client = client_for(
        limited_app(rate_limit=RateLimit(4)),
        KAMI_RATELIMIT_DEFAULT="1/minute",
        KAMI_RATELIMIT_TIERS="free=1/minute,premium=50/minute",
    )
    assert [client.get("/limited/tight").status_code for _ in range(3)] == [200, 200, 429]  # the route's own
    assert [client.get("/limited/open").status_code for _ in range(5)] == [200] * 4 + [429]  # the app's
    alice = session_headers(client, "user", "alice")
    assert client.get("/limited/mine", headers=alice).status_code == 200  # alice is counted apart
    # A route anybody may call counts the address, whatever credentials come with the request:
    # rotating throwaway accounts' tokens lifts nothing there.
    assert client.get("/limited/open", headers=alice).status_code == 429


def test_tiers_apply_without_a_more_specific_limit(client_for: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    client = client_for(
        KAMI_RATELIMIT_DEFAULT="1/minute", KAMI_RATELIMIT_TIERS="free=2/minute,premium=5/minute"
    )
    free, premium = session_headers(client, "user", "f1"), session_headers(client, "user", "p1", "premium")
    assert [client.get("/limited/mine", headers=free).status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/limited/mine", headers=premium).status_code for _ in range(6)] == [200] * 5 + [429]
    assert [client.get("/limited/open").status_code for _ in range(2)] == [200, 429]  # anonymous: default


def test_forwarded_address_only_from_trusted_proxies(client_for: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    untrusted = client_for(KAMI_RATELIMIT_DEFAULT="1/minute")
    assert untrusted.get("/limited/open", headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 200
    assert (
        untrusted.get("/limited/open", headers={"X-Forwarded-For": "10.0.0.2"}).status_code == 429
    )  # spoofing ignored


def test_client_address_believes_only_trusted_proxies() -> None:
    trusted = TrustedProxies(["10.0.0.0/8"])
    nobody = TrustedProxies([])

    def scope(peer: str, forwarded: str) -> Any:
        return {"type": "http", "client": (peer, 1234), "headers": [(b"x-forwarded-for", forwarded.encode())]}

    assert trusted.client_address(scope("10.1.1.1", "203.0.113.9")) == "203.0.113.9"
    assert trusted.client_address(scope("10.1.1.1", "198.51.100.7, 203.0.113.9, 10.2.2.2")) == "203.0.113.9"
    assert trusted.client_address(scope("192.0.2.1", "203.0.113.9")) == "192.0.2.1"  # peer not trusted
    assert trusted.client_address(scope("10.1.1.1", "")) == "10.1.1.1"
    assert nobody.client_address(scope("10.1.1.1", "203.0.113.9")) == "10.1.1.1"


@pytest.mark.parametrize(("fail_open", "status"), [("true", 200), ("false", 503)])
def test_redis_outage_fails_open_or_closed(
    make_settings: Callable[..., Settings], fail_open: str, status: int
) -> None:
    target = urlsplit(service_url("redis"))
    with TcpProxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        settings = make_settings(
            KAMI_REDIS_URL=f"redis://127.0.0.1:{proxy.port}/15",
            KAMI_REDIS_SOCKET_TIMEOUT="0.5",
            KAMI_RATELIMIT_FAIL_OPEN=fail_open,
        )
        with TestClient(create_app(settings, [limited_app()]), raise_server_exceptions=False) as client:
            assert client.get("/limited/open").status_code == 200
            proxy.cut()
            down = client.get("/limited/open")
            assert down.status_code == status
            if status == 503:
                assert down.json()["code"] == 5003
            proxy.restore()
            assert client.get("/limited/open").status_code == 200
