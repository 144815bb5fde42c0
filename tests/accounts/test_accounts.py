"""Accounts and authentication through HTTP (the platform's identity slice), on every backend."""

from __future__ import annotations

from collections.abc import Callable

from kami.settings import Settings
from tests.support.shop import Client, Shop


def test_register_hides_the_password_and_refuses_duplicates(shop: Shop, client: Client) -> None:
    account = shop.register("ada")
    assert set(account) == {
        "id",
        "email",
        "username",
        "role",
        "tier",
        "status",
        "email_verified",
        "created_at",
    }
    assert account["role"] == "user"
    for body in (
        {"email": "ada@example.com", "username": "other", "password": "long enough"},
        {"email": "ADA2@example.com", "username": "ada", "password": "long enough"},
    ):
        response = client.post("/accounts/v1/users", json=body)
        assert (response.status_code, response.json()["code"]) == (409, 4002), body


def test_registration_validation_names_the_field(client: Client) -> None:
    cases = [
        ({"email": "a@b.co", "username": "abc", "password": "short"}, "password"),
        ({"email": "not-an-email", "username": "abc", "password": "long enough"}, "email"),
        ({"email": "a@b.co", "username": "a b", "password": "long enough"}, "username"),
        ({"email": "a@b.co", "password": "long enough"}, "username"),
    ]
    for body, field in cases:
        response = client.post("/accounts/v1/users", json=body)
        assert response.status_code == 422, response.text
        assert field in response.json()["message"]


def test_login_and_me(shop: Shop, client: Client) -> None:
    shop.register("grace")
    wrong = client.post(
        "/accounts/v1/auth/login", json={"email": "grace@example.com", "password": "wrong password"}
    )
    assert (wrong.status_code, wrong.json()["code"]) == (200, 1001)
    unknown = client.post(
        "/accounts/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever1"}
    )
    assert (unknown.status_code, unknown.json()["code"]) == (200, 1001)
    headers = shop.login("grace")
    me = client.get("/accounts/v1/users/me", headers=headers).json()
    assert me["data"]["username"] == "grace"
    assert "password" not in str(me)


def test_refresh_tokens_work_once(shop: Shop, client: Client) -> None:
    shop.register("linus")
    tokens = client.post(
        "/accounts/v1/auth/login", json={"email": "linus@example.com", "password": "correct horse"}
    ).json()["data"]
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] > 0
    first = client.post("/accounts/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert first.json()["code"] == 0
    again = client.post("/accounts/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert (again.status_code, again.json()["code"]) == (401, 1006)
    access_as_refresh = client.post(
        "/accounts/v1/auth/refresh", json={"refresh_token": tokens["access_token"]}
    )
    assert access_as_refresh.status_code == 401


def test_admin_routes(shop: Shop, client: Client) -> None:
    account, user = shop.user("joan")
    for path in ("/accounts/v1/users", f"/accounts/v1/users/{account['id']}"):
        forbidden = client.get(path, headers=user)
        assert (forbidden.status_code, forbidden.json()["code"]) == (403, 1003)
        assert client.get(path, headers=shop.admin).json()["code"] == 0
    credit = client.post(f"/app-a/v1/wallets/{account['id']}/credit", json={"amount": "12.50"}, headers=user)
    assert credit.status_code == 403
    credited = client.post(
        f"/app-a/v1/wallets/{account['id']}/credit", json={"amount": "12.50"}, headers=shop.admin
    )
    assert credited.json()["data"]["balance"] == "12.50"
    negative = client.post(
        f"/app-a/v1/wallets/{account['id']}/credit", json={"amount": "-1"}, headers=shop.admin
    )
    assert negative.status_code == 422
    missing = client.get("/accounts/v1/users/00000000-0000-0000-0000-000000000009", headers=shop.admin)
    assert (missing.status_code, missing.json()["code"]) == (404, 4001)
    listed = client.get("/accounts/v1/users", params={"page_size": 1}, headers=shop.admin).json()["data"]
    assert (listed["total"], len(listed["items"])) == (1, 1)


def test_update_me_changes_username_and_password(shop: Shop, client: Client) -> None:
    _, headers = shop.user("alan")
    without = client.put("/accounts/v1/users/me", json={"password": "new password"}, headers=headers)
    assert (without.status_code, without.json()["code"]) == (403, 1003)  # the current one is needed
    wrong = {"password": "new password", "current_password": "not it"}
    assert client.put("/accounts/v1/users/me", json=wrong, headers=headers).status_code == 403
    change = {"username": "turing", "password": "new password", "current_password": "correct horse"}
    changed = client.put("/accounts/v1/users/me", json=change, headers=headers)
    assert changed.json()["data"]["username"] == "turing"
    relog = client.post(
        "/accounts/v1/auth/login", json={"email": "alan@example.com", "password": "new password"}
    )
    assert relog.json()["code"] == 0
    shop.register("grace")
    taken = client.put("/accounts/v1/users/me", json={"username": "grace"}, headers=headers)
    assert (taken.status_code, taken.json()["code"]) == (409, 4002)
    assert client.get("/accounts/v1/users/me", headers=headers).json()["data"]["username"] == "turing"


def test_create_admin_command(db_settings: Settings, client: Client) -> None:
    import os

    from click.testing import CliRunner, Result

    from kami.cli import main

    env = {
        "KAMI_DATABASE_URL": db_settings.database_url,
        "KAMI_DATABASE_AUTO_MIGRATE": "false",
        "KAMI_ENV_FILE": os.devnull,
    }

    def create_admin(email: str, *options: str) -> Result:
        return CliRunner().invoke(main, ["users", "create-admin", "--email", email, *options], env=env)

    def role_after_login(email: str, password: str) -> int:
        login = client.post("/accounts/v1/auth/login", json={"email": email, "password": password})
        headers = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        return client.get("/accounts/v1/users", headers=headers).status_code  # admins only

    result = create_admin("root@example.com", "--username", "root", "--password", "s3cret pass")
    assert result.exit_code == 0, result.output
    assert "admin root created" in result.output
    assert role_after_login("root@example.com", "s3cret pass") == 200

    # An existing account is promoted; an unknown email is refused; a taken one points to --promote.
    body = {"email": "Later@example.com", "username": "later", "password": "correct horse"}
    assert client.post("/accounts/v1/users", json=body).status_code == 201
    assert role_after_login("later@example.com", "correct horse") == 403
    promoted = create_admin("later@example.com", "--promote")
    assert promoted.exit_code == 0, promoted.output
    assert "later (later@example.com) is now an admin" in promoted.output
    assert role_after_login("later@example.com", "correct horse") == 200
    unknown = create_admin("no@example.com", "--promote")
    assert unknown.exit_code == 1
    assert "no account with email no@example.com" in unknown.output
    taken = create_admin("later@example.com", "--username", "later2", "--password", "long enough")
    assert taken.exit_code == 1, taken.output
    assert "--promote" in taken.output


def test_login_attempts_are_limited_per_address(shop: Shop, client: Client) -> None:
    statuses = [
        client.post(
            "/accounts/v1/auth/login", json={"email": f"nobody{n}@example.com", "password": "x"}
        ).status_code
        for n in range(31)
    ]
    assert statuses[:30] == [200] * 30  # business failures (1001), each for another account
    assert statuses[30] == 429


def test_token_lifetimes_are_settings(make_settings: Callable[..., Settings]) -> None:
    import jwt
    from litestar.testing import TestClient

    from kami.pipeline.app import create_app

    settings = make_settings(KAMI_ACCESS_TOKEN_SECONDS="120", KAMI_REFRESH_TOKEN_SECONDS="3600")
    with TestClient(create_app(settings)) as client:
        body = {"email": "short@example.com", "username": "short", "password": "correct horse"}
        assert client.post("/accounts/v1/users", json=body).status_code == 201
        login = {"email": body["email"], "password": body["password"]}
        tokens = client.post("/accounts/v1/auth/login", json=login).json()["data"]
    assert tokens["expires_in"] == 120
    for token, lifetime in ((tokens["access_token"], 120), (tokens["refresh_token"], 3600)):
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == lifetime
