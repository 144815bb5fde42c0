"""Orders: one transaction across App A and App B, idempotent retries, cancellation, on every backend."""

from __future__ import annotations

import asyncio

from litestar.testing import AsyncTestClient

from kami.observability.events import event_total
from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.support.shop import Client, Shop
from tests.support.tokens import open_session


def test_order_debits_balance_and_takes_stock(shop: Shop, client: Client) -> None:
    cup, pot = shop.product("Cup", "2.50", 10), shop.product("Pot", "10.00", 3)
    _, buyer = shop.user("ada", balance="100.00")
    placed_before = event_total("orders_placed")
    assert shop.stock(cup) == 10
    assert client.get(f"/app-b/v1/products/{cup}").json()["data"]["stock"] == 10  # now cached
    response = shop.order(buyer, (cup, 4), (pot, 1))
    assert response.status_code == 201, response.text
    order = response.json()["data"]
    assert (order["status"], order["total"]) == ("placed", "20.00")
    assert shop.balance(buyer) == "80.00"
    assert event_total("orders_placed") == placed_before + 1
    assert (shop.stock(cup), shop.stock(pot)) == (6, 2)
    assert client.get(f"/app-b/v1/products/{cup}").json()["data"]["stock"] == 6  # the cache was invalidated
    mine = client.get("/app-a/v1/orders", headers=buyer).json()["data"]
    assert [o["id"] for o in mine["items"]] == [order["id"]]
    assert {i["product_id"]: i["quantity"] for i in mine["items"][0]["items"]} == {cup: 4, pot: 1}
    assert client.get(f"/app-a/v1/orders/{order['id']}", headers=buyer).json()["data"] == order
    twice = shop.order(buyer, (cup, 1), (pot, 1), (cup, 2))  # a product listed twice: one line
    assert twice.status_code == 201, twice.text
    lines = {i["product_id"]: i["quantity"] for i in twice.json()["data"]["items"]}
    assert (lines, twice.json()["data"]["total"]) == ({cup: 3, pot: 1}, "17.50")
    assert (shop.stock(cup), shop.stock(pot)) == (3, 1)


def test_insufficient_stock_writes_nothing(shop: Shop, client: Client) -> None:
    plenty, scarce = shop.product("Plenty", "1.00", 50), shop.product("Scarce", "1.00", 1)
    _, buyer = shop.user("bob", balance="100.00")
    failed_before = event_total("orders_failed", code="10001")
    response = shop.order(buyer, (plenty, 5), (scarce, 2))
    assert event_total("orders_failed", code="10001") == failed_before + 1
    assert (response.status_code, response.json()["code"]) == (200, 10001)
    assert response.json()["data"]["product_id"] == scarce
    assert (shop.stock(plenty), shop.stock(scarce)) == (50, 1)
    assert shop.balance(buyer) == "100.00"
    assert client.get("/app-a/v1/orders", headers=buyer).json()["data"]["total"] == 0
    unknown = shop.order(buyer, ("00000000-0000-0000-0000-0000000000aa", 1))
    assert (unknown.status_code, unknown.json()["code"]) == (200, 10001)


def test_insufficient_balance_writes_nothing(shop: Shop, client: Client) -> None:
    gem = shop.product("Gem", "60.00", 5)
    _, buyer = shop.user("carol", balance="100.00")
    response = shop.order(buyer, (gem, 2))
    assert (response.status_code, response.json()["code"]) == (200, 10008)
    assert shop.stock(gem) == 5
    assert shop.balance(buyer) == "100.00"
    assert client.get("/app-a/v1/orders", headers=buyer).json()["data"]["total"] == 0


def test_orders_are_private_and_cancel_restores_once(shop: Shop, client: Client) -> None:
    mug = shop.product("Mug", "5.00", 4)
    _, owner = shop.user("dan", balance="50.00")
    _, stranger = shop.user("erin")
    order = shop.order(owner, (mug, 2)).json()["data"]
    url = f"/app-a/v1/orders/{order['id']}"
    assert client.get(url, headers=stranger).status_code == 404
    assert client.post(f"{url}/cancel", headers=stranger).status_code == 404
    assert client.get(url, headers=shop.admin).json()["data"]["id"] == order["id"]
    cancelled = client.post(f"{url}/cancel", headers=owner)
    assert cancelled.json()["data"]["status"] == "cancelled"
    assert (shop.stock(mug), shop.balance(owner)) == (4, "50.00")
    again = client.post(f"{url}/cancel", headers=owner)
    assert (again.status_code, again.json()["code"]) == (409, 10003)  # already cancelled
    assert (shop.stock(mug), shop.balance(owner)) == (4, "50.00")


def test_order_validation_and_auth(shop: Shop, client: Client) -> None:
    _, buyer = shop.user("fay")
    assert client.post("/app-a/v1/orders", json={"items": []}).status_code == 401
    for body, field in (
        ({"items": []}, "items"),
        ({"items": [{"product_id": "nope", "quantity": 1}]}, "product_id"),
        ({"items": [{"product_id": "00000000-0000-0000-0000-000000000001", "quantity": 0}]}, "quantity"),
    ):
        response = client.post("/app-a/v1/orders", json=body, headers=buyer)
        assert (response.status_code, response.json()["code"]) == (422, 3001), response.text
        assert field in response.json()["message"]


def test_idempotent_retry_returns_the_first_answer(shop: Shop, client: Client) -> None:
    tea = shop.product("Tea", "3.00", 10)
    _, buyer = shop.user("gus", balance="30.00")
    first = shop.order(buyer, (tea, 2), key="order-1")
    retry = shop.order(buyer, (tea, 2), key="order-1")
    assert first.status_code == retry.status_code == 201
    assert retry.json()["data"] == first.json()["data"]  # the same order...
    assert retry.json()["trace_id"] == retry.headers["x-trace-id"] != first.json()["trace_id"]  # ...told anew
    assert retry.headers["idempotent-replayed"] == "true"
    assert (shop.stock(tea), shop.balance(buyer)) == (8, "24.00")
    different = shop.order(buyer, (tea, 3), key="order-1")
    assert (different.status_code, different.json()["code"]) == (409, 4008)  # key reused


async def test_racing_retries_place_one_order(db_settings: Settings, make_shop: type[Shop]) -> None:
    async with AsyncTestClient(create_app(db_settings)) as client:
        admin_headers = await open_session(client.app)
        product = (
            await client.post(
                "/app-b/v1/products",
                json={"name": "Race", "price": "1.00", "stock": 10},
                headers=admin_headers,
            )
        ).json()["data"]["id"]
        account = (
            await client.post(
                "/accounts/v1/users",
                json={"email": "race@example.com", "username": "race", "password": "correct horse"},
            )
        ).json()["data"]
        await client.post(
            f"/app-a/v1/wallets/{account['id']}/credit", json={"amount": "10"}, headers=admin_headers
        )
        login = (
            await client.post(
                "/accounts/v1/auth/login", json={"email": "race@example.com", "password": "correct horse"}
            )
        ).json()["data"]
        headers = {"Authorization": f"Bearer {login['access_token']}", "Idempotency-Key": "race-1"}
        body = {"items": [{"product_id": product, "quantity": 1}]}
        answers = await asyncio.gather(
            *(client.post("/app-a/v1/orders", json=body, headers=headers) for _ in range(5))
        )
        assert {a.status_code for a in answers} == {201}
        assert len({a.json()["data"]["id"] for a in answers}) == 1
        auth = {"Authorization": headers["Authorization"]}
        assert (await client.get("/app-a/v1/orders", headers=auth)).json()["data"]["total"] == 1
        assert (await client.get(f"/app-b/v1/inventory/{product}")).json()["data"]["quantity"] == 9
