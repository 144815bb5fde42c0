"""Every app stands on the platform alone, or declares what it needs: App B mounted by itself still has
registration, login, API keys and permissions (the platform's identity slice), on every database; App A
needs App B and says so in one line, as `kami serve` and as an application."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from kami.app_spec import AppLoadError
from kami.cli import main
from kami.pipeline.app import create_app
from kami.settings import Settings, load_settings
from tests.support.servers import kami_env
from tests.support.tokens import confirm_address

PASSWORD = "correct horse"


def _as_app_b_alone(settings: Settings) -> Settings:
    raw = {
        "KAMI_DATABASE_URL": settings.database_url,
        "KAMI_DATABASE_AUTO_MIGRATE": "false",
        "KAMI_DATA_DIR": settings.app.data_dir,
        "KAMI_ENV_FILE": os.devnull,
        "KAMI_SECRET_KEY": settings.security.secret_key,
        "KAMI_APPS": "apps.app_b",
    }
    return load_settings(raw)


def test_app_b_alone_has_accounts_keys_and_permissions(db_settings: Settings) -> None:
    settings = _as_app_b_alone(db_settings)
    made = CliRunner().invoke(
        main,
        [
            "users",
            "create-admin",
            "--email",
            "root@example.com",
            "--username",
            "root",
            "--password",
            PASSWORD,
        ],
        env={
            "KAMI_DATABASE_URL": settings.database_url,
            "KAMI_APPS": "apps.app_b",
            "KAMI_ENV_FILE": os.devnull,
        },
    )
    assert made.exit_code == 0, made.output
    with TestClient(create_app(settings)) as client:
        assert {route.path.split("/")[1] for route in client.app.routes} >= {"accounts", "app-b"}
        assert not any(route.path.startswith("/app-a") for route in client.app.routes)
        person = {"email": "bea@example.com", "username": "bea", "password": PASSWORD}
        assert client.post("/accounts/v1/users", json=person).status_code == 201
        login = client.post("/accounts/v1/auth/login", json={"email": person["email"], "password": PASSWORD})
        user = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        refused = client.post("/app-b/v1/products", json={"name": "Cup", "price": "3.00"}, headers=user)
        assert (refused.status_code, refused.json()["code"]) == (403, 1003)
        wanted = {"name": "bea's", "permissions": []}
        unconfirmed = client.post("/accounts/v1/api-keys", json=wanted, headers=user)
        assert (unconfirmed.status_code, unconfirmed.json()["code"]) == (403, 1010)
        confirm_address(client, person["email"])
        key = client.post("/accounts/v1/api-keys", json=wanted, headers=user)
        assert key.status_code == 201, key.text

        root = client.post(
            "/accounts/v1/auth/login", json={"email": "root@example.com", "password": PASSWORD}
        )
        admin = {"Authorization": f"Bearer {root.json()['data']['access_token']}"}
        created = client.post("/app-b/v1/products", json={"name": "Cup", "price": "3.00"}, headers=admin)
        assert created.status_code == 201, created.text
        writer = client.post(
            "/accounts/v1/api-keys",
            json={"name": "catalogue sync", "permissions": ["app-b:products.write"]},
            headers=admin,
        ).json()["data"]
        by_key = client.post(
            "/app-b/v1/products", json={"name": "Pot", "price": "9.00"}, headers={"X-API-Key": writer["key"]}
        )
        assert by_key.status_code == 201, by_key.text
        assert client.get("/app-b/v1/products").json()["data"]["total"] == 2


def test_app_a_alone_names_what_it_needs(make_settings: Settings) -> None:
    with pytest.raises(AppLoadError) as refused:
        create_app(make_settings(KAMI_APPS="apps.app_a"))  # type: ignore[operator]
    assert str(refused.value) == (
        "KAMI_APPS: apps.app_a needs apps.app_b mounted beside it; add it to KAMI_APPS"
    )


def test_kami_serve_with_app_a_alone_stops_with_one_line(tmp_path: Path) -> None:
    env = kami_env(tmp_path, KAMI_APPS="apps.app_a")
    done = subprocess.run(
        [sys.executable, "-m", "kami", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == ["kami: KAMI_APPS: apps.app_a needs apps.app_b mounted beside it; add it to KAMI_APPS"], (
        done.stderr
    )
    assert "Traceback" not in done.stdout + done.stderr
