"""A user's whole journey through HTTP, and 200 concurrent orders for the last units on MariaDB."""

from __future__ import annotations

import asyncio
from pathlib import Path

from litestar.testing import AsyncTestClient

from kami.pipeline.app import create_app
from tests.conftest import service_url
from tests.support.backends import reset_schema
from tests.support.databases import settings_for
from tests.support.shop import Client, Shop
from tests.support.tokens import open_session

STOCK, BUYERS = 7, 200


def test_user_journey(shop: Shop, client: Client) -> None:
    lamp = shop.product("Desk lamp", "24.90", 3)
    client.post(
        "/accounts/v1/users", json={"email": "kim@example.com", "username": "kim", "password": "journey pass"}
    )
    tokens = client.post(
        "/accounts/v1/auth/login", json={"email": "kim@example.com", "password": "journey pass"}
    ).json()["data"]
    me = {"Authorization": f"Bearer {tokens['access_token']}"}
    kim = client.get("/accounts/v1/users/me", headers=me).json()["data"]
    client.post(f"/app-a/v1/wallets/{kim['id']}/credit", json={"amount": "50"}, headers=shop.admin)
    found = client.get("/app-b/v1/products", params={"name": "lamp", "in_stock": "true"}).json()["data"]
    assert [p["id"] for p in found["items"]] == [lamp]
    detail = client.get(f"/app-b/v1/products/{lamp}").json()["data"]
    order = client.post(
        "/app-a/v1/orders", json={"items": [{"product_id": detail["id"], "quantity": 2}]}, headers=me
    ).json()
    assert (order["code"], order["data"]["total"]) == (0, "49.80")
    assert client.get("/app-a/v1/wallet", headers=me).json()["data"]["balance"] == "0.20"
    cancelled = client.post(f"/app-a/v1/orders/{order['data']['id']}/cancel", headers=me).json()
    assert cancelled["data"]["status"] == "cancelled"
    assert client.get("/app-a/v1/wallet", headers=me).json()["data"]["balance"] == "50.00"
    assert client.get(f"/app-b/v1/inventory/{lamp}").json()["data"]["quantity"] == 3


async def test_concurrent_orders_never_oversell(tmp_path: Path) -> None:
    settings = settings_for(
        service_url("mysql"), tmp_path, KAMI_RATELIMIT_ENABLED="false"
    )  # one buyer, 200 calls
    await asyncio.to_thread(reset_schema, settings)
    async with AsyncTestClient(create_app(settings), timeout=60) as client:
        admin = await open_session(client.app)
        product = (
            await client.post(
                "/app-b/v1/products",
                json={"name": "Last units", "price": "1.00", "stock": STOCK},
                headers=admin,
            )
        ).json()["data"]["id"]
        account = (
            await client.post(
                "/accounts/v1/users",
                json={"email": "many@example.com", "username": "many", "password": "correct horse"},
            )
        ).json()["data"]
        await client.post(f"/app-a/v1/wallets/{account['id']}/credit", json={"amount": "1000"}, headers=admin)
        buyer = await open_session(client.app, "user", account["id"])
        body = {"items": [{"product_id": product, "quantity": 1}]}
        answers = await asyncio.gather(
            *(client.post("/app-a/v1/orders", json=body, headers=buyer) for _ in range(BUYERS))
        )
        codes = [a.json()["code"] for a in answers]
        assert codes.count(0) == STOCK, codes
        assert codes.count(10001) == BUYERS - STOCK
        stock = (await client.get(f"/app-b/v1/inventory/{product}")).json()["data"]["quantity"]
        assert stock == 0
        placed = (await client.get("/app-a/v1/orders", params={"page_size": 100}, headers=buyer)).json()[
            "data"
        ]
        assert placed["total"] == STOCK
        wallet = (await client.get("/app-a/v1/wallet", headers=buyer)).json()["data"]
        assert wallet["balance"] == f"{1000 - STOCK}.00"
