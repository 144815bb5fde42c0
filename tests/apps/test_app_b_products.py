"""App B's catalogue through HTTP: CRUD, filters, sorting, pagination bounds, errors, on every backend."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.support.tokens import session_headers

Client = TestClient  # type: ignore[type-arg]


def create(client: Client, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"name": "Cup", "price": "9.50", "stock": 5, **fields}
    response = client.post("/app-b/v1/products", json=body, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_create_get_update_delete(client: Client, admin_headers: dict[str, str]) -> None:
    product = create(client, admin_headers, name="Espresso cup", price="12.50", description="90 ml")
    assert product["price"] == "12.50"
    assert product["version"] == 1
    got = client.get(f"/app-b/v1/products/{product['id']}").json()
    assert got["code"] == 0
    assert got["data"]["name"] == "Espresso cup"

    patched = client.patch(
        f"/app-b/v1/products/{product['id']}", json={"price": "13.00"}, headers=admin_headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"]["price"] == "13.00"
    assert patched.json()["data"]["description"] == "90 ml"
    assert patched.json()["data"]["version"] == 2

    assert client.delete(f"/app-b/v1/products/{product['id']}", headers=admin_headers).status_code == 204
    gone = client.get(f"/app-b/v1/products/{product['id']}")
    assert (gone.status_code, gone.json()["code"]) == (404, 4001)


def test_duplicate_name_is_409_4002_and_keeps_the_first(
    client: Client, admin_headers: dict[str, str]
) -> None:
    first = create(client, admin_headers, name="Teapot")
    response = client.post(
        "/app-b/v1/products", json={"name": "Teapot", "price": "1.00"}, headers=admin_headers
    )
    assert (response.status_code, response.json()["code"]) == (409, 4002)
    listed = client.get("/app-b/v1/products").json()["data"]
    assert [p["id"] for p in listed["items"]] == [first["id"]]
    second = create(client, admin_headers, name="Kettle")
    renamed = client.patch(
        f"/app-b/v1/products/{second['id']}", json={"name": "Teapot"}, headers=admin_headers
    )
    assert (renamed.status_code, renamed.json()["code"]) == (409, 4002)
    assert client.get(f"/app-b/v1/products/{second['id']}").json()["data"]["name"] == "Kettle"


def test_filters_sorting_and_pages(client: Client, admin_headers: dict[str, str]) -> None:
    for i, (name, price, stock) in enumerate(
        [
            ("Red mug", "5.00", 0),
            ("Blue mug", "7.00", 3),
            ("Green plate", "11.00", 1),
            ("50% off_mug", "2.00", 1),
        ]
    ):
        create(client, admin_headers, name=name, price=price, stock=stock + i * 0)
    by_name = client.get("/app-b/v1/products", params={"name": "MUG", "sort": "name"}).json()["data"]
    assert [p["name"] for p in by_name["items"]] == ["50% off_mug", "Blue mug", "Red mug"]
    literal = client.get("/app-b/v1/products", params={"name": "50%"}).json()["data"]
    assert [p["name"] for p in literal["items"]] == ["50% off_mug"]
    priced = client.get("/app-b/v1/products", params={"min_price": "5", "max_price": "10", "sort": "-price"})
    assert [p["name"] for p in priced.json()["data"]["items"]] == ["Blue mug", "Red mug"]
    stocked = client.get("/app-b/v1/products", params={"in_stock": "false"}).json()["data"]
    assert [p["name"] for p in stocked["items"]] == ["Red mug"]
    page = client.get("/app-b/v1/products", params={"page": 2, "page_size": 3, "sort": "price"}).json()[
        "data"
    ]
    assert (page["total"], page["page"], page["page_size"], page["total_pages"]) == (4, 2, 3, 2)
    assert [p["name"] for p in page["items"]] == ["Green plate"]


def test_pagination_bounds_are_422(client: Client) -> None:
    for params in ({"page_size": 101}, {"page_size": 0}, {"page": 0}, {"sort": "password"}):
        response = client.get("/app-b/v1/products", params=params)
        assert (response.status_code, response.json()["code"]) == (422, 3001), params
        assert next(iter(params)) in response.json()["message"]


def test_default_page_size_is_20(client: Client, admin_headers: dict[str, str]) -> None:
    for i in range(21):
        create(client, admin_headers, name=f"Item {i:02d}")
    page = client.get("/app-b/v1/products").json()["data"]
    assert (len(page["items"]), page["total"], page["total_pages"]) == (20, 21, 2)


def test_validation_names_the_field(client: Client, admin_headers: dict[str, str]) -> None:
    cases = [
        ({"name": "x", "price": "-1"}, "price", 3001),
        ({"name": "x", "price": "1.001"}, "price", 3001),
        ({"name": "", "price": "1"}, "name", 3001),
        ({"price": "1"}, "name", 3002),
        ({"name": "x", "price": "1", "stock": -1}, "stock", 3001),
        ({"name": "x", "price": "1", "colour": "red"}, "colour", 3001),
    ]
    for body, field, code in cases:
        response = client.post("/app-b/v1/products", json=body, headers=admin_headers)
        assert (response.status_code, response.json()["code"]) == (422, code), (body, response.text)
        assert field in response.json()["message"], (body, response.text)


def test_writes_need_the_permission(client: Client) -> None:
    body = {"name": "Nope", "price": "1.00"}
    anonymous = client.post("/app-b/v1/products", json=body)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, 1004)
    user = session_headers(client, "user")
    forbidden = client.post("/app-b/v1/products", json=body, headers=user)
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, 1003)
    tampered = {"Authorization": user["Authorization"][:-2] + "xx"}
    assert client.post("/app-b/v1/products", json=body, headers=tampered).json()["code"] == 1004
    assert client.get("/app-b/v1/products").json()["data"]["total"] == 0


def test_integers_past_what_the_column_holds_are_422(client: Client, admin_headers: dict[str, str]) -> None:
    product = create(client, admin_headers, name="Big", price="1.00", stock=1)
    url = f"/app-b/v1/inventory/{product['id']}"
    for body in (
        {"quantity": 1, "version": 2**63},
        {"quantity": 2**63, "version": 1},
        {"quantity": 1, "version": 2**31},
    ):
        answer = client.put(url, json=body, headers=admin_headers)
        assert (answer.status_code, answer.json()["code"]) == (422, 3001), (body, answer.text)
    assert client.get(url).json()["data"]["quantity"] == 1


def test_inventory_optimistic_concurrency(client: Client, admin_headers: dict[str, str]) -> None:
    product = create(client, admin_headers, stock=5)
    url = f"/app-b/v1/inventory/{product['id']}"
    stock = client.get(url).json()["data"]
    assert stock == {"product_id": product["id"], "quantity": 5, "version": 1}
    first = client.put(url, json={"quantity": 8, "version": 1}, headers=admin_headers)
    assert first.json()["data"] == {"product_id": product["id"], "quantity": 8, "version": 2}
    stale = client.put(url, json={"quantity": 1, "version": 1}, headers=admin_headers)
    assert (stale.status_code, stale.json()["code"]) == (409, 4007)
    assert stale.json()["data"] == {"current_version": 2}
    assert client.get(url).json()["data"]["quantity"] == 8
    missing = client.get("/app-b/v1/inventory/00000000-0000-0000-0000-0000000000ff")
    assert (missing.status_code, missing.json()["code"]) == (404, 4001)
