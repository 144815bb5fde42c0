"""What a person meets first: ``/`` says what this is, ``/docs`` and ``/redoc`` lead to the docs, and a
path nobody declared is told apart from an id that names nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.support.tokens import session_headers

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
def client(sqlite_settings: Settings) -> Iterator[Client]:
    with TestClient(create_app(sqlite_settings)) as c:
        yield c


def test_the_index_names_the_service_its_apps_and_the_docs(client: Client) -> None:
    body = client.get("/").json()
    assert (body["code"], body["message"]) == (0, "Success")
    index = body["data"]
    assert index["service"] == "kami"
    assert index["version"] not in ("", "unknown")
    mounted = [(a["name"], a["prefix"]) for a in index["apps"]]
    assert mounted == [("accounts", "/accounts"), ("app-a", "/app-a"), ("app-b", "/app-b")]
    for path in index["docs"].values():
        assert client.get(path).status_code == 200, path
    assert client.get(index["health"]).status_code == 200


@pytest.mark.parametrize(("path", "target"), [("/docs", "/schema"), ("/redoc", "/schema/redoc")])
def test_the_usual_docs_paths_lead_to_the_docs(client: Client, path: str, target: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (302, target)
    assert "<html" in client.get(path).text.lower()


def test_an_id_of_the_wrong_type_is_a_resource_not_found(client: Client, sqlite_settings: Settings) -> None:
    """Like an id of the right type that names nothing (4001), not an unknown endpoint (4004)."""
    buyer = session_headers(client, "user")
    malformed = client.get("/app-a/v1/orders/not-a-uuid", headers=buyer).json()
    unknown = client.get(f"/app-a/v1/orders/{uuid.uuid4()}", headers=buyer).json()
    assert malformed["code"] == unknown["code"] == 4001
    assert malformed["message"] == "Resource not found: order_id must be a UUID"
    product = client.get("/app-b/v1/products/12").json()
    assert (product["code"], product["message"]) == (4001, "Resource not found: product_id must be a UUID")


def test_an_undeclared_path_is_an_unknown_endpoint(client: Client) -> None:
    for method, path in (("GET", "/app-a/v1/nothing-here"), ("DELETE", "/app-a/v1/orders/not-a-uuid")):
        answer = client.request(method, path)
        body = answer.json()
        assert (answer.status_code, body["code"]) in ((404, 4004), (405, 4005)), body
    body = client.get("/app-a/v1/nothing-here").json()
    assert body["message"] == "Unknown endpoint: GET /app-a/v1/nothing-here (see /schema)"
