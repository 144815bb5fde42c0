"""Validation failures say what was expected in words (kami.pipeline.validation): never a regular
expression, a type name from the machinery or a Python exception; the field stays in ``data.errors``."""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import Any, Literal

import msgspec
import pytest
from litestar import post
from litestar.params import JSONBody
from litestar.testing import TestClient

from kami import ApiResponse, AppSpec, success
from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.support.tokens import session_headers

Client = TestClient  # type: ignore[type-arg]
ACCOUNT = {"email": "ada@example.com", "username": "ada", "password": "correct horse"}


@pytest.fixture
def client(sqlite_settings: Settings) -> Iterator[Client]:
    with TestClient(create_app(sqlite_settings), raise_server_exceptions=False) as c:
        yield c


def refused(answer: Any, code: int = 3001) -> tuple[str, list[dict[str, str]]]:
    body = answer.json()
    assert (answer.status_code, body["code"]) == (422, code), body
    for machinery in ("`", "regex", "Expected", "'data'", "\\x"):
        assert machinery not in body["message"], body["message"]
    return body["message"], body["data"]["errors"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"email": "not-an-address"}, "email", "expected an email address like ada@example.com"),
        ({"username": "a b"}, "username", "expected letters, digits, '_', '.' and '-' only"),
        ({"username": "ab"}, "username", "must have at least 3 characters"),
        ({"password": 12345678}, "password", "expected text, got a whole number"),
    ],
)
def test_a_body_field_says_what_it_expected(
    client: Client, change: dict[str, Any], field: str, words: str
) -> None:
    message, errors = refused(client.post("/accounts/v1/users", json={**ACCOUNT, **change}))
    assert errors == [{"field": field, "source": "body", "message": words}]
    assert message == f"Invalid input: {field}: {words}"


def test_a_price_says_its_precision(client: Client, sqlite_settings: Settings) -> None:
    admin = session_headers(client, "admin")
    answer = client.post(
        "/app-b/v1/products", json={"name": "Cup", "price": "12.555", "stock": 1}, headers=admin
    )
    _, errors = refused(answer)
    assert errors[0]["field"] == "price"
    assert "at most 10 digits before the point and 2 after" in errors[0]["message"]


def test_an_enum_lists_its_values(client: Client) -> None:
    _, errors = refused(client.get("/app-b/v1/products", params={"sort": "sideways"}))
    assert errors == [
        {
            "field": "sort",
            "source": "query",
            "message": "'sideways' is not allowed; expected one of: -created_at, -name, -price, "
            "created_at, name, price",
        }
    ]


def test_a_query_value_of_the_wrong_type(client: Client) -> None:
    _, errors = refused(client.get("/app-b/v1/products", params={"in_stock": "maybe"}))
    assert errors == [{"field": "in_stock", "source": "query", "message": "expected true or false"}]


@pytest.mark.parametrize("body", [None, b""])
def test_a_missing_body_is_named(client: Client, body: bytes | None) -> None:
    """Also the tripwire of Litestar's word for an absent body (a KeyError of its signature field)."""
    headers = {"content-type": "application/json"}
    message, errors = refused(client.post("/accounts/v1/users", content=body, headers=headers), code=3002)
    assert message == "Missing required field: a JSON body is required"
    assert errors == [{"field": "", "source": "body", "message": "a JSON body is required"}]


def test_a_missing_and_an_unknown_field(client: Client) -> None:
    answer = client.post("/accounts/v1/users", json={"email": "ada@example.com", "password": "x" * 9})
    _, errors = refused(answer, code=3002)
    assert errors == [{"field": "username", "source": "body", "message": "is required"}]
    _, errors = refused(client.post("/accounts/v1/users", json={**ACCOUNT, "admin": True}))
    assert errors == [{"field": "admin", "source": "body", "message": "is not a field of this request"}]


def test_a_nested_field_is_named_by_its_path(client: Client, sqlite_settings: Settings) -> None:
    buyer = session_headers(client, "user")
    order = {"items": [{"product_id": "00000000-0000-0000-0000-000000000002", "quantity": 0}]}
    _, errors = refused(client.post("/app-a/v1/orders", json=order, headers=buyer))
    assert errors == [{"field": "items[0].quantity", "source": "body", "message": "must be at least 1"}]


class Size(Enum):
    SMALL = "small"
    LARGE = "large"


class Line(msgspec.Struct):
    colour: Literal["red", "green"]


class Basket(msgspec.Struct):
    lines: list[Line]
    size: Size = Size.SMALL


@post("/baskets", summary="b", description="b")
async def add_basket(data: JSONBody[Basket]) -> ApiResponse[None]:
    return success(None)


SPEC = AppSpec(name="baskets", prefix="/baskets", code_range=range(96000, 96100), route_handlers=[add_basket])


def test_values_are_found_at_any_depth_of_the_body(sqlite_settings: Settings) -> None:
    with TestClient(create_app(sqlite_settings, [SPEC])) as client:
        nested = client.post("/baskets/baskets", json={"lines": [{"colour": "red"}, {"colour": "blue"}]})
        by_enum = client.post("/baskets/baskets", json={"lines": [], "size": "huge"})
    _, errors = refused(nested)
    assert errors[0]["message"] == "'blue' is not allowed; expected one of: green, red"
    _, errors = refused(by_enum)
    assert errors[0]["message"] == "'huge' is not allowed; expected one of: small, large"
