"""API keys over HTTP on SQLite, MariaDB and PostgreSQL: made by a signed-in account with some of its
own permissions, shown once and stored hashed, recognisable by their prefix, listed with their last
use, limited in their own window at their tier, refused at once when revoked (also by a second
instance sharing Redis), when expired, and when their account is deactivated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
from litestar.testing import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine

from kami.accounts.models import ApiKey
from kami.db.config import normalise_url
from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.backends import reset_schema
from tests.support.databases import settings_for
from tests.support.redis import forget
from tests.support.shop import Client, Shop


def answer(response: Any) -> tuple[int, int]:
    return response.status_code, response.json()["code"]


def rows(settings: Settings) -> list[ApiKey]:
    async def run() -> list[ApiKey]:
        engine = create_async_engine(normalise_url(settings.database_url))
        async with engine.connect() as connection:
            found = list((await connection.execute(select(ApiKey))).all())
        await engine.dispose()
        return found  # type: ignore[return-value]

    return anyio.run(run)


def expire(settings: Settings, key_id: str) -> None:
    async def run() -> None:
        engine = create_async_engine(normalise_url(settings.database_url))
        async with engine.begin() as connection:
            past = datetime.now(UTC) - timedelta(minutes=1)
            await connection.execute(update(ApiKey).where(ApiKey.id == key_id).values(expires_at=past))
        await engine.dispose()

    anyio.run(run)


def stocker(shop: Shop, client: Client, name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """An account whose role may set stock (and nothing else)."""
    client.put("/accounts/v1/roles/stocker", json={"permissions": ["app-b:stock.write"]}, headers=shop.admin)
    account, headers = shop.user(name)
    shop.verify(name)
    client.patch(f"/accounts/v1/users/{account['id']}", json={"role": "stocker"}, headers=shop.admin)
    return account, headers


def test_a_key_acts_with_its_own_permissions_until_revoked(
    shop: Shop, client: Client, db_settings: Settings
) -> None:
    product = shop.product("Crate", "3.00", 5)
    _, person = stocker(shop, client, "lee")
    more = client.post(
        "/accounts/v1/api-keys",
        json={"name": "greedy", "permissions": ["app-b:products.write"]},
        headers=person,
    )
    assert answer(more) == (403, 1003)  # not the maker's to give
    unknown = client.post(
        "/accounts/v1/api-keys", json={"name": "odd", "permissions": ["app-z:all"]}, headers=person
    )
    assert answer(unknown) == (404, 4001)
    made = client.post(
        "/accounts/v1/api-keys",
        json={"name": "stock bot", "permissions": ["app-b:stock.write"]},
        headers=person,
    )
    assert made.status_code == 201, made.text
    created = made.json()["data"]
    secret = created["key"]
    assert secret.startswith(f"kami_{created['id']}_")
    assert (created["permissions"], created["tier"], created["expires_at"]) == (
        ["app-b:stock.write"],
        "free",
        None,
    )
    stored = rows(db_settings)
    assert len(stored) == 1
    assert all(secret.split("_", 2)[2] not in str(value) for value in stored[0])  # only a hash is kept

    key = {"X-API-Key": secret}
    stock = client.put(f"/app-b/v1/inventory/{product}", json={"quantity": 9, "version": 1}, headers=key)
    assert answer(stock) == (200, 0)
    write = client.post("/app-b/v1/products", json={"name": "No", "price": "1.00"}, headers=key)
    assert answer(write) == (403, 1003)
    nested = client.post("/accounts/v1/api-keys", json={"name": "child", "permissions": []}, headers=key)
    assert answer(nested) == (403, 1008)  # a key cannot make keys
    assert answer(client.get("/app-a/v1/orders", headers=key)) == (403, 1003)  # not a permission it has
    both = client.get("/app-a/v1/orders", headers={**key, **person})
    assert answer(both) == (401, 1004)
    for wrong in ("kami_nothing", secret[:-2] + "xx", "Bearer " + secret):
        assert answer(client.get("/app-a/v1/orders", headers={"X-API-Key": wrong})) == (401, 1004)

    listed = client.get("/accounts/v1/api-keys", headers=person).json()["data"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]
    assert listed[0]["last_used_at"] is not None
    # Its own window at its tier: this is the key's 5th counted request (the stock, the product, the
    # child key, the orders, this); its maker's many requests are not in it.
    stale = client.put(f"/app-b/v1/inventory/{product}", json={"quantity": 1, "version": 1}, headers=key)
    assert answer(stale) == (409, 4007)
    assert (stale.headers["RateLimit-Limit"], stale.headers["RateLimit-Remaining"]) == ("100", "95")

    other = shop.user("max")[1]
    assert answer(client.delete(f"/accounts/v1/api-keys/{created['id']}", headers=other)) == (404, 4001)
    assert answer(client.delete(f"/accounts/v1/api-keys/{created['id']}", headers=person)) == (200, 0)
    assert answer(client.get("/app-a/v1/orders", headers=key)) == (401, 1004)
    audit = client.get("/accounts/v1/audit", params={"action": "api-key.created"}, headers=shop.admin).json()[
        "data"
    ]
    assert audit["items"][0]["detail"] == {"key": created["id"], "permissions": ["app-b:stock.write"]}


def test_expired_keys_and_deactivated_accounts_are_refused(
    shop: Shop, client: Client, db_settings: Settings
) -> None:
    account, person = shop.user("ned")
    shop.verify("ned")
    short = client.post(
        "/accounts/v1/api-keys",
        json={"name": "short", "permissions": [], "expires_in_days": 1},
        headers=person,
    ).json()["data"]
    assert short["expires_at"] is not None
    expire(db_settings, short["id"])
    assert answer(client.get("/app-a/v1/orders", headers={"X-API-Key": short["key"]})) == (401, 1002)
    lasting = client.post(
        "/accounts/v1/api-keys",
        json={"name": "lasting", "permissions": ["app-a:orders.read"]},
        headers=person,
    ).json()["data"]
    key = {"X-API-Key": lasting["key"]}
    assert answer(client.get("/app-a/v1/orders", headers=key)) == (200, 0)
    client.patch(f"/accounts/v1/users/{account['id']}", json={"status": "disabled"}, headers=shop.admin)
    assert answer(client.get("/app-a/v1/orders", headers=key)) == (401, 1004)
    client.patch(f"/accounts/v1/users/{account['id']}", json={"status": "active"}, headers=shop.admin)
    assert answer(client.get("/app-a/v1/orders", headers=key)) == (401, 1004)  # revoked, not paused


def test_a_key_revoked_in_one_instance_is_refused_by_the_other(tmp_path: Path) -> None:
    redis_url = service_url("redis")
    forget(redis_url, "kami:*", "app-a:*", "ratelimit:*")
    settings = settings_for(service_url("postgres"), tmp_path, KAMI_REDIS_URL=redis_url)
    reset_schema(settings)
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        shop = Shop(one, {})
        shop.register("ora")
        shop.verify("ora")
        login = one.post(
            "/accounts/v1/auth/login", json={"email": "ora@example.com", "password": "correct horse"}
        )
        person = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        made = one.post(
            "/accounts/v1/api-keys",
            json={"name": "shared", "permissions": ["app-a:orders.read"]},
            headers=person,
        ).json()["data"]
        key = {"X-API-Key": made["key"]}
        assert answer(two.get("/app-a/v1/orders", headers=key)) == (200, 0)  # its copy is in Redis now
        assert answer(one.delete(f"/accounts/v1/api-keys/{made['id']}", headers=person)) == (200, 0)
        assert answer(two.get("/app-a/v1/orders", headers=key)) == (401, 1004)
