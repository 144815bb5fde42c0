"""The container's entrypoint modes, run as plain processes against MariaDB and Redis the way the image
runs them: production settings, secrets from files, ``migrate`` then ``serve``, and ``serve --migrate``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import service_url
from tests.support.backends import drop_everything
from tests.support.servers import kami_env, run_kami


@pytest.fixture
def production_env(tmp_path: Path) -> dict[str, str]:
    """What compose/Swarm/Kubernetes give the container: URL parts, *_FILE secrets, production."""
    mysql = service_url("mysql")
    drop_everything(mysql)
    url = make_url(mysql)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "db").write_text(url.password or "")
    (secrets / "key").write_text("k" * 48 + "\n")
    return kami_env(
        tmp_path,
        KAMI_ENVIRONMENT="production",
        KAMI_DATABASE_HOST=url.host or "",
        KAMI_DATABASE_PORT=str(url.port or 3306),
        KAMI_DATABASE_USER=url.username or "",
        KAMI_DATABASE_NAME=url.database or "",
        KAMI_DATABASE_PASSWORD_FILE=str(secrets / "db"),
        KAMI_SECRET_KEY_FILE=str(secrets / "key"),
        KAMI_REDIS_URL=service_url("redis"),
    )


def _ready(url: str) -> httpx.Response:
    return httpx.get(url + "/health/ready", timeout=5)


def test_migrate_then_serve(production_env: dict[str, str]) -> None:
    with run_kami(production_env) as unmigrated:  # production never migrates on its own
        answer = _ready(unmigrated.url)
        assert answer.status_code == 503
        assert answer.json()["data"]["components"]["migrations"]["detail"] == "migrations not applied"

    migrate = subprocess.run(
        [sys.executable, "-m", "kami", "migrate"],
        env=production_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    assert "database schema is up to date" in migrate.stderr

    with run_kami(production_env, workers=2, ready_path="/health/ready") as kami:
        assert _ready(kami.url).json()["code"] == 0
    assert kami.process.returncode == 0, kami.output()


def test_serve_with_migrate_on_an_empty_database(production_env: dict[str, str]) -> None:
    with run_kami(production_env, args=["--migrate"], ready_path="/health/ready") as kami:
        assert _ready(kami.url).json()["data"]["components"]["migrations"]["status"] == "ok"
