"""Security headers on every kind of response, a stricter policy for JSON than for the docs, and HSTS
only over HTTPS (directly or as a trusted proxy reports it)."""

from __future__ import annotations

from pathlib import Path

import httpx
from litestar.testing import TestClient

from kami.pipeline.app import create_app
from kami.pipeline.security_headers import API_POLICY, DOCS_POLICY, HSTS
from kami.settings import Settings
from tests.support.servers import kami_env, run_kami

COMMON = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


def _has_common(response: httpx.Response) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (response.request.url, name)


def test_every_response_carries_the_headers(sqlite_settings: Settings) -> None:
    with TestClient(create_app(sqlite_settings)) as client:
        answers = [
            client.get("/app-b/v1/products"),
            client.get("/app-b/v1/products"),  # a response-cache hit, sent by the middleware itself
            client.get("/no/such/route"),
            client.delete("/health/live"),
            client.post("/app-a/v1/orders", json={"items": []}),  # 401 from a guard
            client.post(
                "/accounts/v1/users", content=b"{not json", headers={"content-type": "application/json"}
            ),
        ]
        docs = client.get("/schema/swagger")
        asset = client.get("/schema/assets/swagger-ui/swagger-ui.css")
    assert [a.status_code for a in answers] == [200, 200, 404, 405, 401, 400]
    for answer in answers:
        _has_common(answer)
        assert answer.headers["content-security-policy"] == API_POLICY
        assert "strict-transport-security" not in answer.headers  # plain HTTP
    for page in (docs, asset):
        assert page.status_code == 200
        _has_common(page)
        assert page.headers["content-security-policy"] == DOCS_POLICY


def test_hsts_only_over_https_as_a_trusted_proxy_reports_it(tmp_path: Path) -> None:
    https = {"X-Forwarded-Proto": "https"}
    with run_kami(kami_env(tmp_path / "trusting", KAMI_RATELIMIT_TRUSTED_PROXIES="127.0.0.1")) as kami:
        assert (
            httpx.get(f"{kami.url}/health/live", headers=https).headers["strict-transport-security"] == HSTS
        )
        assert "strict-transport-security" not in httpx.get(f"{kami.url}/health/live").headers
    with run_kami(kami_env(tmp_path / "untrusting")) as kami:
        assert "strict-transport-security" not in httpx.get(f"{kami.url}/health/live", headers=https).headers
