from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.support.tokens import confirm_address

Client = TestClient  # type: ignore[type-arg]


class Shop:
    """Drives the two apps through HTTP only, as a REST client would."""

    def __init__(self, client: Client, admin_headers: dict[str, str]) -> None:
        self.client = client
        self.admin = admin_headers

    def register(self, name: str, password: str = "correct horse") -> dict[str, Any]:
        response = self.client.post(
            "/accounts/v1/users",
            json={"email": f"{name}@example.com", "username": name, "password": password},
        )
        assert response.status_code == 201, response.text
        return dict(response.json()["data"])

    def verify(self, name: str) -> None:
        """Mark the address of ``name`` as confirmed, as following the mailed link does
        (tests/accounts/test_recovery.py follows the real one)."""
        confirm_address(self.client, f"{name}@example.com")

    def login(self, name: str, password: str = "correct horse") -> dict[str, str]:
        body = self.client.post(
            "/accounts/v1/auth/login", json={"email": f"{name}@example.com", "password": password}
        ).json()
        assert body["code"] == 0, body
        return {"Authorization": f"Bearer {body['data']['access_token']}"}

    def user(self, name: str, balance: str = "0") -> tuple[dict[str, Any], dict[str, str]]:
        account = self.register(name)
        if balance != "0":
            credited = self.client.post(
                f"/app-a/v1/wallets/{account['id']}/credit", json={"amount": balance}, headers=self.admin
            )
            assert credited.status_code == 200, credited.text
        return account, self.login(name)

    def product(self, name: str, price: str, stock: int) -> str:
        response = self.client.post(
            "/app-b/v1/products", json={"name": name, "price": price, "stock": stock}, headers=self.admin
        )
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["id"])

    def stock(self, product_id: str) -> int:
        return int(self.client.get(f"/app-b/v1/inventory/{product_id}").json()["data"]["quantity"])

    def balance(self, headers: dict[str, str]) -> str:
        return str(self.client.get("/app-a/v1/wallet", headers=headers).json()["data"]["balance"])

    def order(self, headers: dict[str, str], *lines: tuple[str, int], key: str | None = None) -> Any:
        extra = {"Idempotency-Key": key} if key else {}
        items = [{"product_id": p, "quantity": q} for p, q in lines]
        return self.client.post("/app-a/v1/orders", json={"items": items}, headers={**headers, **extra})


@pytest.fixture
def shop(client: Client, admin_headers: dict[str, str]) -> Shop:
    return Shop(client, admin_headers)


@pytest.fixture
def make_shop() -> Callable[[Client, dict[str, str]], Shop]:
    return Shop
