"""Health endpoints against real dependencies."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from litestar.testing import TestClient

from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.proxy import TcpProxy


def test_health_reports_every_component(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(KAMI_REDIS_URL=service_url("redis"))
    with TestClient(create_app(settings)) as client:
        body = client.get("/health").json()
        assert body["code"] == 0
        components = body["data"]["components"]
        assert components["database"]["status"] == "ok"
        assert components["redis"]["status"] == "ok"
        assert components["telemetry"]["status"] == "disabled"
        ready = client.get("/health/ready").json()["data"]["components"]
        assert set(ready) == {"database", "migrations", "redis"}


def test_redis_outage_fails_readiness_not_liveness(make_settings: Callable[..., Settings]) -> None:
    target = urlsplit(service_url("redis"))
    with TcpProxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        settings = make_settings(
            KAMI_REDIS_URL=f"redis://127.0.0.1:{proxy.port}/15", KAMI_REDIS_SOCKET_TIMEOUT="0.5"
        )
        with TestClient(create_app(settings)) as client:
            assert client.get("/health/ready").status_code == 200
            proxy.cut()
            ready = client.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["code"] == 5004
            assert ready.json()["data"]["components"]["redis"]["status"] == "down"
            assert client.get("/health/live").status_code == 200
            proxy.restore()
            assert client.get("/health/ready").status_code == 200


def test_migrations_pending_fail_readiness(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(KAMI_DATABASE_AUTO_MIGRATE="false")
    with TestClient(create_app(settings)) as client:
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["data"]["components"]["migrations"]["detail"] == "migrations not applied"
