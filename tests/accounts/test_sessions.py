"""Sessions, account lifecycle and roles over HTTP, on SQLite, MariaDB and PostgreSQL (the in-memory
store), and across two application instances sharing Redis (what several workers or replicas are).

Every refusal of a live token is checked with the token still within its lifetime: what ends it is the
session, not the clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from kami.cli import main
from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.backends import reset_schema
from tests.support.databases import settings_for
from tests.support.redis import forget
from tests.support.shop import Client, Shop

SESSION_ENDED = (401, 1005)


def answer(response: Any) -> tuple[int, int]:
    return response.status_code, response.json()["code"]


def login(client: Client, name: str, password: str = "correct horse", agent: str = "tests") -> dict[str, Any]:
    body = {"email": f"{name}@example.com", "password": password}
    response = client.post("/accounts/v1/auth/login", json=body, headers={"User-Agent": agent})
    assert response.json()["code"] == 0, response.text
    return dict(response.json()["data"])


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def me(client: Client, tokens: dict[str, Any]) -> tuple[int, int]:
    return answer(client.get("/accounts/v1/users/me", headers=bearer(tokens)))


def test_logout_ends_the_access_and_the_refresh_token_at_once(shop: Shop, client: Client) -> None:
    shop.register("ada")
    tokens = login(client, "ada")
    assert me(client, tokens) == (200, 0)
    assert answer(client.post("/accounts/v1/auth/logout", headers=bearer(tokens))) == (200, 0)
    assert me(client, tokens) == SESSION_ENDED
    refreshed = client.post("/accounts/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert answer(refreshed) == SESSION_ENDED
    assert answer(client.post("/accounts/v1/auth/logout", headers=bearer(tokens))) == SESSION_ENDED


def test_refresh_rotates_within_the_session_and_a_reused_token_ends_it(shop: Shop, client: Client) -> None:
    shop.register("bob")
    first = login(client, "bob")
    second = client.post("/accounts/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()[
        "data"
    ]
    sessions = client.get("/accounts/v1/sessions", headers=bearer(second)).json()["data"]
    assert len(sessions) == 1  # the same session, new tokens
    assert me(client, first) == (200, 0)  # the older access token still belongs to the live session
    # Someone presents the spent refresh token (a copy): the whole session ends, for both holders.
    reused = client.post("/accounts/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert answer(reused) == (401, 1006)
    assert me(client, second) == SESSION_ENDED
    again = client.post("/accounts/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert answer(again) == SESSION_ENDED
    assert me(client, login(client, "bob")) == (200, 0)  # logging in again opens a new one


def test_two_tabs_refreshing_at_once_get_the_same_tokens(make_settings: Callable[..., Settings]) -> None:
    """Within the grace (KAMI_REFRESH_GRACE_SECONDS) a replaced refresh token gets the very tokens that
    replaced it; after it, it is a copy and the session ends."""
    settings = make_settings(KAMI_REFRESH_GRACE_SECONDS="2")
    with TestClient(create_app(settings)) as client:
        Shop(client, {}).register("tab")
        first = login(client, "tab")
        refresh = {"refresh_token": first["refresh_token"]}
        one, two = (client.post("/accounts/v1/auth/refresh", json=refresh) for _ in range(2))
        assert answer(one) == answer(two) == (200, 0)
        assert one.json()["data"] == two.json()["data"]  # the same new pair, once
        assert me(client, one.json()["data"]) == (200, 0)
        time.sleep(2.2)
        late = client.post("/accounts/v1/auth/refresh", json=refresh)
        assert answer(late) == (401, 1006)
        assert me(client, one.json()["data"]) == SESSION_ENDED


def test_a_session_ends_at_its_absolute_lifetime_whatever_its_refreshes(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(KAMI_SESSION_MAX_SECONDS="300", KAMI_REFRESH_GRACE_SECONDS="0")
    with TestClient(create_app(settings)) as client:
        Shop(client, {}).register("old")
        tokens = login(client, "old")
        listed = client.get("/accounts/v1/sessions", headers=bearer(tokens)).json()["data"]
        created = datetime.fromisoformat(listed[0]["created_at"])
        assert datetime.fromisoformat(listed[0]["expires_at"]) - created <= timedelta(seconds=300)
        renewed = client.post("/accounts/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        listed = client.get("/accounts/v1/sessions", headers=bearer(renewed.json()["data"])).json()["data"]
        assert datetime.fromisoformat(listed[0]["expires_at"]) - created <= timedelta(seconds=300)


def test_sessions_are_listed_with_their_origin_and_revocable(shop: Shop, client: Client) -> None:
    shop.register("cyd")
    shop.register("dee")
    laptop, phone = login(client, "cyd", agent="laptop browser"), login(client, "cyd", agent="phone app")
    listed = client.get("/accounts/v1/sessions", headers=bearer(laptop)).json()["data"]
    assert [s["user_agent"] for s in listed] == ["phone app", "laptop browser"]  # newest first
    assert [s["current"] for s in listed] == [False, True]
    assert all(s["address"] == "testclient" and s["created_at"] <= s["last_used_at"] for s in listed)
    phone_id = listed[0]["id"]
    other = login(client, "dee")
    not_hers = client.delete(f"/accounts/v1/sessions/{phone_id}", headers=bearer(other))
    assert answer(not_hers) == (404, 4001)  # another account's session is not found, not revoked
    assert me(client, phone) == (200, 0)
    assert answer(client.delete(f"/accounts/v1/sessions/{phone_id}", headers=bearer(laptop))) == (200, 0)
    assert me(client, phone) == SESSION_ENDED
    assert me(client, laptop) == (200, 0)
    assert answer(client.delete(f"/accounts/v1/sessions/{phone_id}", headers=bearer(laptop))) == (404, 4001)


def test_a_new_password_ends_every_other_session(shop: Shop, client: Client) -> None:
    shop.register("eve")
    here, elsewhere = login(client, "eve"), login(client, "eve")
    change = {"password": "a new password", "current_password": "correct horse"}
    changed = client.put("/accounts/v1/users/me", json=change, headers=bearer(here))
    assert answer(changed) == (200, 0)
    assert me(client, elsewhere) == SESSION_ENDED
    assert me(client, here) == (200, 0)
    assert len(client.get("/accounts/v1/sessions", headers=bearer(here)).json()["data"]) == 1
    renamed = client.put("/accounts/v1/users/me", json={"username": "eve2"}, headers=bearer(here))
    assert answer(renamed) == (200, 0)  # a new username alone ends nothing
    assert me(client, here) == (200, 0)


def test_deactivation_refuses_live_tokens_and_logins_until_reactivated(shop: Shop, client: Client) -> None:
    account = shop.register("fay")
    tokens = login(client, "fay")
    url = f"/accounts/v1/users/{account['id']}"
    disabled = client.patch(url, json={"status": "disabled"}, headers=shop.admin)
    assert disabled.json()["data"]["status"] == "disabled"
    assert me(client, tokens) == SESSION_ENDED
    refused = client.post(
        "/accounts/v1/auth/login", json={"email": "fay@example.com", "password": "correct horse"}
    )
    assert answer(refused) == (403, 1007)
    wrong = client.post("/accounts/v1/auth/login", json={"email": "fay@example.com", "password": "not it"})
    assert answer(wrong) == (200, 1001)  # the account's state is told only to its password
    client.patch(url, json={"status": "active"}, headers=shop.admin)
    assert me(client, login(client, "fay")) == (200, 0)


def test_role_tier_and_role_definitions_apply_to_live_sessions(shop: Shop, client: Client) -> None:
    account = shop.register("gil")
    tokens = login(client, "gil")
    url = f"/accounts/v1/users/{account['id']}"
    assert answer(client.get("/accounts/v1/users", headers=bearer(tokens))) == (403, 1003)
    # A role an admin defines: reading accounts, nothing else.
    support = {"permissions": ["accounts:read"], "description": "Answers customers"}
    defined = client.put("/accounts/v1/roles/support", json=support, headers=shop.admin)
    assert defined.json()["data"] == {
        "name": "support",
        "description": "Answers customers",
        "permissions": ["accounts:read"],
        "built_in": False,
    }
    assert client.patch(url, json={"role": "support"}, headers=shop.admin).json()["data"]["role"] == "support"
    assert answer(client.get("/accounts/v1/users", headers=bearer(tokens))) == (200, 0)  # the same token
    wallet = f"/app-a/v1/wallets/{account['id']}/credit"
    credit = client.post(wallet, json={"amount": "1.00"}, headers=bearer(tokens))
    assert answer(credit) == (403, 1003)
    order = client.post(
        "/app-a/v1/orders",
        json={"items": [{"product_id": account["id"], "quantity": 1}]},
        headers=bearer(tokens),
    )
    assert answer(order) == (403, 1003)  # placing orders is the user role's, not support's
    # Changing the role's definition changes its holders' sessions at once.
    support["permissions"] = ["accounts:read", "app-a:wallets.credit"]
    client.put("/accounts/v1/roles/support", json=support, headers=shop.admin)
    assert answer(client.post(wallet, json={"amount": "1.00"}, headers=bearer(tokens))) == (200, 0)
    client.patch(url, json={"role": "user"}, headers=shop.admin)
    assert answer(client.get("/accounts/v1/users", headers=bearer(tokens))) == (403, 1003)
    # The tier is the account's too: the rate limit follows it without a new login.
    assert client.get("/accounts/v1/users/me", headers=bearer(tokens)).headers["RateLimit-Limit"] == "100"
    client.patch(url, json={"tier": "premium"}, headers=shop.admin)
    assert client.get("/accounts/v1/users/me", headers=bearer(tokens)).headers["RateLimit-Limit"] == "1000"
    # What does not exist is refused, and nothing changes.
    for change in ({"role": "nobody"}, {"tier": "gold"}):
        assert answer(client.patch(url, json=change, headers=shop.admin)) == (404, 4001)
    assert client.get(url, headers=shop.admin).json()["data"]["tier"] == "premium"


def test_roles_are_checked_and_cannot_be_pulled_from_under_an_account(shop: Shop, client: Client) -> None:
    roles = client.get("/accounts/v1/roles", headers=shop.admin).json()["data"]
    assert [(r["name"], r["built_in"]) for r in roles] == [("user", True), ("admin", True)]
    assert roles[1]["permissions"] == ["*"]
    assert "app-a:orders.place" in roles[0]["permissions"]
    undeclared = client.put(
        "/accounts/v1/roles/odd", json={"permissions": ["app-z:rule.all"]}, headers=shop.admin
    )
    assert answer(undeclared) == (404, 4001)
    assert "app-z:rule.all" in undeclared.json()["message"]
    built_in = client.put("/accounts/v1/roles/admin", json={"permissions": []}, headers=shop.admin)
    assert answer(built_in) == (409, 4011)
    client.put("/accounts/v1/roles/auditor", json={"permissions": ["accounts:read"]}, headers=shop.admin)
    account = shop.register("hal")
    client.patch(f"/accounts/v1/users/{account['id']}", json={"role": "auditor"}, headers=shop.admin)
    assert answer(client.delete("/accounts/v1/roles/auditor", headers=shop.admin)) == (409, 4012)
    client.patch(f"/accounts/v1/users/{account['id']}", json={"role": "user"}, headers=shop.admin)
    assert answer(client.delete("/accounts/v1/roles/auditor", headers=shop.admin)) == (200, 0)
    assert answer(client.delete("/accounts/v1/roles/auditor", headers=shop.admin)) == (404, 4001)


def test_deleting_an_account_anonymises_it_and_ends_its_sessions(shop: Shop, client: Client) -> None:
    account, buyer = shop.user("ivy", balance="10")
    tokens = login(client, "ivy")
    product = shop.product("Pen", "1.00", 5)
    assert shop.order(buyer, (product, 1)).status_code == 201
    assert answer(client.delete(f"/accounts/v1/users/{account['id']}", headers=shop.admin)) == (200, 0)
    assert me(client, tokens) == SESSION_ENDED
    kept = client.get(f"/accounts/v1/users/{account['id']}", headers=shop.admin).json()["data"]
    assert kept["status"] == "deleted"
    assert "ivy" not in kept["email"] + kept["username"]
    gone = client.post(
        "/accounts/v1/auth/login", json={"email": "ivy@example.com", "password": "correct horse"}
    )
    assert answer(gone) == (200, 1001)
    assert answer(client.delete(f"/accounts/v1/users/{account['id']}", headers=shop.admin)) == (404, 4001)
    shop.register("ivy")  # the address is free again


@pytest.fixture
def two_instances(tmp_path: Path) -> Iterator[tuple[Client, Client, Settings]]:
    """Two applications on one MariaDB database and one Redis: two workers, or two replicas."""
    redis_url = service_url("redis")
    forget(redis_url, "kami:session*", "kami:account-sessions:*", "app-a:*", "ratelimit:*")
    settings = settings_for(service_url("mysql"), tmp_path, KAMI_REDIS_URL=redis_url)
    reset_schema(settings)
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        yield one, two, settings


def test_a_session_ended_in_one_instance_is_refused_by_the_other(
    two_instances: tuple[Client, Client, Settings],
) -> None:
    one, two, settings = two_instances
    shop = Shop(one, {})
    account = shop.register("jon")
    tokens = login(one, "jon")
    assert me(two, tokens) == (200, 0)
    assert answer(two.post("/accounts/v1/auth/logout", headers=bearer(tokens))) == (200, 0)
    assert me(one, tokens) == SESSION_ENDED
    # A role given on the command line reaches live sessions through the same Redis.
    tokens = login(two, "jon")
    assert answer(one.get("/accounts/v1/users", headers=bearer(tokens))) == (403, 1003)
    env = {
        "KAMI_DATABASE_URL": settings.database_url,
        "KAMI_REDIS_URL": settings.redis.url,
        "KAMI_DATABASE_AUTO_MIGRATE": "false",
        "KAMI_ENV_FILE": "/dev/null",
    }
    run: Callable[..., Any] = lambda *args: CliRunner().invoke(main, list(args), env=env)  # noqa: E731
    defined = run("roles", "define", "reader", "--permission", "accounts:read")
    assert defined.exit_code == 0, defined.output
    undeclared = run("roles", "define", "odd", "--permission", "app-z:nothing")
    assert undeclared.exit_code == 1
    assert "app-z:nothing" in undeclared.output
    promoted = run("users", "create-admin", "--email", "jon@example.com", "--promote")
    assert promoted.exit_code == 0, promoted.output
    assert answer(one.get("/accounts/v1/users", headers=bearer(tokens))) == (200, 0)
    assert account["role"] == "user"
    listed = run("roles", "list")
    assert "reader: accounts:read" in listed.output
