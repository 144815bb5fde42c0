"""Spans and logs of real requests reach a real OTLP gRPC receiver, linked by one trace id."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from litestar.testing import TestClient

from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.otlp import OtlpReceiver, ReceivedSpan
from tests.support.servers import free_port
from tests.support.tokens import confirm_address, session_headers
from tests.support.waiting import wait_until

KEY = "o" * 40
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"


@pytest.fixture(autouse=True)
def _fast_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
    monkeypatch.setenv("OTEL_BLRP_SCHEDULE_DELAY", "100")


@pytest.fixture
def traced(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, OtlpReceiver]]:  # type: ignore[type-arg]
    with OtlpReceiver() as receiver:
        settings = make_settings(
            KAMI_TELEMETRY_OTLP_ENDPOINT=receiver.endpoint,
            KAMI_REDIS_URL=service_url("redis"),
            KAMI_SECRET_KEY=KEY,
        )
        with TestClient(create_app(settings)) as client:
            yield client, receiver


def spans_of(receiver: OtlpReceiver, trace_id: str) -> list[ReceivedSpan]:
    return [s for s in receiver.spans if s.trace_id == trace_id]


def test_server_sql_and_redis_spans_share_the_callers_trace(traced: tuple[TestClient, OtlpReceiver]) -> None:  # type: ignore[type-arg]
    client, receiver = traced
    admin = session_headers(client)
    client.post("/app-b/v1/products", json={"name": "Traced", "price": "1.00"}, headers=admin)
    response = client.get("/app-b/v1/products", params={"name": "Trac"}, headers={"traceparent": TRACEPARENT})
    assert response.json()["trace_id"] == CALLER_TRACE
    assert response.headers["x-trace-id"] == CALLER_TRACE
    assert response.headers["traceparent"].startswith(f"00-{CALLER_TRACE}-")

    def complete() -> bool:
        names = [s.name for s in spans_of(receiver, CALLER_TRACE)]
        return "GET /app-b/v1/products" in names and any(
            s.attributes.get("db.system") for s in spans_of(receiver, CALLER_TRACE)
        )

    assert wait_until(complete), [s.name for s in receiver.spans]
    spans = spans_of(receiver, CALLER_TRACE)
    server = next(s for s in spans if s.name == "GET /app-b/v1/products")
    assert server.parent_span_id == "00f067aa0ba902b7"
    assert server.attributes["http.route"] == "/app-b/v1/products"
    assert server.attributes["kami.app"] == "app-b"
    sql = [s for s in spans if s.attributes.get("db.system")]
    redis = [s for s in spans if s.attributes.get("db.system") == "redis"]
    assert any(s.attributes["db.system"] in ("sqlite", "mysql") for s in sql)
    assert redis, "no Redis command span"
    assert all(s.parent_span_id == server.span_id for s in sql + redis)


def test_raw_paths_never_name_spans_and_platform_paths_are_not_traced(
    traced: tuple[TestClient, OtlpReceiver],  # type: ignore[type-arg]
) -> None:
    client, receiver = traced
    missing = client.get("/app-b/v1/products/00000000-0000-0000-0000-000000000042")
    health = client.get("/health/live")
    assert len(health.json()["trace_id"]) == 32
    template = "GET /app-b/v1/products/{product_id}"
    assert wait_until(lambda: template in {s.name for s in spans_of(receiver, missing.json()["trace_id"])})
    assert not any("00000000" in s.name for s in receiver.spans)
    time.sleep(0.5)
    assert not spans_of(receiver, health.json()["trace_id"])


def test_log_records_carry_the_trace_id(traced: tuple[TestClient, OtlpReceiver]) -> None:  # type: ignore[type-arg]
    client, receiver = traced
    trace_id = client.get("/no/such/route").json()["trace_id"]
    assert wait_until(lambda: any(r["trace_id"] == trace_id for r in receiver.logs))
    record = next(r for r in receiver.logs if r["trace_id"] == trace_id)
    assert record["service"] == "kami"
    started = next(r for r in receiver.logs if "kami started" in str(r["body"]))  # through structlog
    assert not {"_logger", "_name", "_from_structlog"} & set(started["attributes"]), started["attributes"]


def test_collector_outage_degrades_health_and_export_resumes(make_settings: Callable[..., Settings]) -> None:
    port = free_port()
    settings = make_settings(KAMI_TELEMETRY_OTLP_ENDPOINT=f"http://127.0.0.1:{port}")
    with TestClient(create_app(settings)) as client:
        lost = client.get("/no/such/route")
        assert lost.status_code == 404
        assert wait_until(
            lambda: client.get("/health").json()["data"]["components"]["telemetry"]["status"] == "degraded",
            30,
        )
        assert client.get("/health").status_code == 200  # degraded, not down
        with OtlpReceiver(port) as receiver:
            later = client.get("/no/such/route").json()["trace_id"]
            assert wait_until(lambda: bool(spans_of(receiver, later)), 30)


def test_server_span_names_the_authenticated_user(traced: tuple[TestClient, OtlpReceiver]) -> None:  # type: ignore[type-arg]
    client, receiver = traced
    user = "0191a2b3-c4d5-7e6f-8091-a2b3c4d5e6f7"
    trace_id = client.get("/accounts/v1/users/me", headers=session_headers(client, "user", user)).json()[
        "trace_id"
    ]
    assert wait_until(
        lambda: any(s.name == "GET /accounts/v1/users/me" for s in spans_of(receiver, trace_id))
    )
    server = next(s for s in spans_of(receiver, trace_id) if s.name == "GET /accounts/v1/users/me")
    assert server.attributes["enduser.id"] == user
    assert server.attributes["kami.app"] == "accounts"
    assert "ada@" not in str(server.attributes)


def test_a_request_with_an_api_key_is_traced_with_the_keys_id(
    traced: tuple[TestClient, OtlpReceiver],
) -> None:  # type: ignore[type-arg]
    client, receiver = traced
    body = {
        "email": f"{uuid.uuid4().hex[:10]}@example.com",
        "username": uuid.uuid4().hex[:10],
        "password": "correct horse",
    }
    account = client.post("/accounts/v1/users", json=body).json()["data"]
    confirm_address(client, body["email"])
    login = client.post(
        "/accounts/v1/auth/login", json={"email": body["email"], "password": body["password"]}
    )
    person = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    made = client.post("/accounts/v1/api-keys", json={"name": "traced", "permissions": []}, headers=person)
    key = made.json()["data"]
    trace_id = client.get("/app-a/v1/orders", headers={"X-API-Key": key["key"]}).json()["trace_id"]
    assert wait_until(lambda: any(s.name == "GET /app-a/v1/orders" for s in spans_of(receiver, trace_id)))
    server = next(s for s in spans_of(receiver, trace_id) if s.name == "GET /app-a/v1/orders")
    assert (server.attributes["kami.api_key"], server.attributes["enduser.id"]) == (key["id"], account["id"])
    assert key["key"] not in str(server.attributes)


def test_a_full_export_queue_counts_its_drops(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kami.observability.events import event_total

    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "5")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "5")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "60000")
    settings = make_settings(KAMI_TELEMETRY_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    before = event_total("telemetry_dropped_spans")
    with TestClient(create_app(settings)) as client:
        for _ in range(30):
            client.get("/no/such/route")
        assert event_total("telemetry_dropped_spans") > before


def test_server_span_records_the_http_exchange(traced: tuple[TestClient, OtlpReceiver]) -> None:  # type: ignore[type-arg]
    client, receiver = traced
    trace_id = client.get("/app-b/v1/products", params={"page": 1}).json()["trace_id"]
    assert wait_until(lambda: any(s.name == "GET /app-b/v1/products" for s in spans_of(receiver, trace_id)))
    server = next(s for s in spans_of(receiver, trace_id) if s.name == "GET /app-b/v1/products")
    assert server.kind == 2  # SPAN_KIND_SERVER
    assert server.parent_span_id == ""  # the root: nobody sent a traceparent
    assert server.attributes["http.request.method"] == "GET"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["url.path"] == "/app-b/v1/products"
    assert "url.query" not in server.attributes  # queries may carry secrets: never recorded


def test_unsampled_requests_keep_access_lines_out_of_otlp(make_settings: Callable[..., Settings]) -> None:
    """At ratio 0 no request is traced; its access line stays on stderr, app logs still go over OTLP."""
    with OtlpReceiver() as receiver:
        settings = make_settings(
            KAMI_TELEMETRY_OTLP_ENDPOINT=receiver.endpoint, KAMI_TELEMETRY_SAMPLING_RATIO="0"
        )
        with TestClient(create_app(settings)) as client:
            answer = client.get("/app-b/v1/products")
            assert answer.status_code == 200
            trace_id = answer.json()["trace_id"]
        # Leaving the client shut the app down, which flushed every pending record.
        assert any("kami started" in str(r["body"]) for r in receiver.logs), receiver.logs
        assert not [r for r in receiver.logs if r["trace_id"] == trace_id]
        assert not receiver.spans
