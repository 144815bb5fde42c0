"""Every row of the HTTP status table, through the real application."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from litestar.testing import TestClient

from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.support.error_app import make_spec

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def client(sqlite_settings: Settings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(create_app(sqlite_settings, [make_spec()]), raise_server_exceptions=False) as c:
        yield c


def assert_envelope(response, status: int, code: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "data", "trace_id", "timestamp"}
    assert body["code"] == code
    assert HEX32.match(body["trace_id"])
    assert response.headers["x-trace-id"] == body["trace_id"]
    assert body["timestamp"].endswith("Z") or body["timestamp"].endswith("+00:00")
    return body


def test_success_is_code_zero(client: TestClient) -> None:  # type: ignore[type-arg]
    body = assert_envelope(client.post("/errors/signup", json={"email": "a@b.c"}), 201, 0)
    assert body["data"] == {"email": "a@b.c", "age": 0}


def test_unknown_route_is_404_envelope(client: TestClient) -> None:  # type: ignore[type-arg]
    assert_envelope(client.get("/no/such/route"), 404, 4004)


def test_wrong_method_is_405_envelope(client: TestClient) -> None:  # type: ignore[type-arg]
    assert_envelope(client.delete("/errors/signup"), 405, 4005)


def test_malformed_json_is_400(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.post(
        "/errors/signup", content=b"{not json", headers={"content-type": "application/json"}
    )
    body = assert_envelope(response, 400, 3003)
    assert "Malformed JSON" in body["message"]


def test_missing_field_is_422_naming_the_field(client: TestClient) -> None:  # type: ignore[type-arg]
    body = assert_envelope(client.post("/errors/signup", json={"age": 3}), 422, 3002)
    assert body["data"]["errors"][0]["field"] == "email"
    assert "email" in body["message"]


def test_wrong_type_is_422_invalid_input(client: TestClient) -> None:  # type: ignore[type-arg]
    body = assert_envelope(client.post("/errors/signup", json={"email": "x", "age": "old"}), 422, 3001)
    assert body["data"]["errors"][0]["field"] == "age"


def test_business_error_is_http_200_with_code(client: TestClient) -> None:  # type: ignore[type-arg]
    body = assert_envelope(client.get("/errors/business"), 200, 2000)
    assert body["message"] == "Insufficient balance"


def test_not_found_error_is_404_4001(client: TestClient) -> None:  # type: ignore[type-arg]
    body = assert_envelope(client.get("/errors/missing"), 404, 4001)
    assert body["message"] == "no such widget"


def test_unhandled_error_is_500_without_internals(
    client: TestClient,  # type: ignore[type-arg]
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = assert_envelope(client.get("/errors/boom"), 500, 9000)
    assert "hunter2" not in client.get("/errors/boom").text
    assert body["message"] == "Internal server error"
    logged = [r.msg for r in caplog.records if r.name == "kami.errors"]
    assert logged, "the unhandled exception was not logged"
    event = logged[0]
    assert isinstance(event, dict)
    assert "Traceback" in event["exception"]
    assert "RuntimeError" in event["exception"]
    assert event["trace_id"] == body["trace_id"]


def test_incoming_traceparent_is_the_trace_id(client: TestClient) -> None:  # type: ignore[type-arg]
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = client.get("/health/live", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    assert assert_envelope(response, 200, 0)["trace_id"] == trace_id


def test_too_large_body_is_413(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(KAMI_SERVER_MAX_BODY_SIZE="2048")
    with TestClient(create_app(settings, [make_spec()]), raise_server_exceptions=False) as c:
        response = c.post(
            "/errors/signup",
            content=b'{"email": "' + b"x" * 4096 + b'"}',
            headers={"content-type": "application/json"},
        )
        assert_envelope(response, 413, 3004)


def test_database_unreachable_is_503_5001(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        KAMI_DATABASE_URL="mysql+asyncmy://nobody:nothing@127.0.0.1:9/none",
        KAMI_DATABASE_CONNECT_TIMEOUT="1",
    )
    with TestClient(create_app(settings, [make_spec()]), raise_server_exceptions=False) as c:
        body = assert_envelope(c.get("/errors/db"), 503, 5001)
        assert "nothing" not in body["message"]
        ready = c.get("/health/ready")
        assert_envelope(ready, 503, 5004)
        assert ready.json()["data"]["components"]["database"]["status"] == "down"
        assert c.get("/health/live").status_code == 200


def test_error_raised_in_middleware_is_an_envelope(sqlite_settings: Settings) -> None:
    from litestar.middleware import ASGIMiddleware
    from litestar.types import ASGIApp, Receive, Scope, Send

    from kami import AppSpec, AuthenticationError

    class Refuse(ASGIMiddleware):
        async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
            raise AuthenticationError("refused by middleware")

    spec = make_spec()
    guarded = AppSpec(
        name=spec.name,
        prefix=spec.prefix,
        code_range=spec.code_range,
        route_handlers=spec.route_handlers,
        middleware=[Refuse()],
    )
    with TestClient(create_app(sqlite_settings, [guarded]), raise_server_exceptions=False) as c:
        body = assert_envelope(c.get("/errors/business"), 401, 1004)
        assert body["message"] == "refused by middleware"


def test_options_lists_every_method_of_a_path_shared_by_two_controllers(sqlite_settings: Settings) -> None:
    """App A's public ``POST /users`` and admin ``GET /users`` live in different controllers; Litestar's
    own OPTIONS answer listed only the first one's methods (found by schemathesis)."""
    with TestClient(create_app(sqlite_settings)) as client:
        for path, methods in (
            ("/accounts/v1/users", "GET, HEAD, OPTIONS, POST"),
            ("/accounts/v1/users/me", "GET, HEAD, OPTIONS, PUT"),
            ("/app-b/v1/products/0191a2b3-c4d5-7e6f-8091-a2b3c4d5e6f7", "DELETE, GET, HEAD, OPTIONS, PATCH"),
        ):
            answer = client.options(path)
            assert (answer.status_code, answer.headers["allow"]) == (204, methods)
        refused = client.delete("/accounts/v1/users")  # the 405 agrees
        assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
