"""The restore drill, as docs/runbook.md#disaster-recovery tells an operator to run it: data written
through the API, a backup by the database's own dump tool (the script the CronJob and the one-shot
services run), the database dropped, the dump restored, ``kami migrate`` with nothing to do, and the
API serving the same data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.conftest import service_url, tool_path
from tests.support.backends import reset_schema
from tests.support.databases import settings_for
from tests.support.servers import kami_env
from tests.support.tokens import session_headers

SCRIPTS = Path(__file__).parents[2] / "infra" / "backup"


# The variables each backup script reads, as the manifests set them, from the test database's URL.
_VARIABLES = {
    "mysql": ("MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_DATABASE", 3306),
    "postgresql": ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", 5432),
}


def _tool_environment(url: URL) -> dict[str, str]:
    host, port, user, password, database, default_port = _VARIABLES[url.get_backend_name()]
    return {
        host: url.host or "127.0.0.1",
        port: str(url.port or default_port),
        user: url.username or "",
        password: url.password or "",
        database: url.database or "",
    }


def _script(name: str, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        ["bash", str(SCRIPTS / f"{name}.sh"), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def _drop_and_create(url: URL) -> None:
    """What a lost database looks like: gone, then an empty one of the same name."""
    name = url.database
    if url.get_backend_name() == "mysql":
        statements = [f"DROP DATABASE `{name}`", f"CREATE DATABASE `{name}`"]
        server = url
    else:
        statements = [f'DROP DATABASE "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"']
        server = url.set(database="postgres")
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _catalogue(settings: Settings) -> list[dict[str, Any]]:
    with TestClient(create_app(settings)) as client:
        response = client.get("/app-b/v1/products", params={"sort": "name"})
        assert response.status_code == 200, response.text
        return list(response.json()["data"]["items"])


@pytest.mark.parametrize("backend", ["mysql", "postgres"])
def test_restore_drill(backend: str, tmp_path: Path) -> None:
    tool = "mysql" if backend == "mysql" else "postgres"
    tool_path("mysqldump" if backend == "mysql" else "pg_dump", provided_by=f"the {tool} client package")
    url = service_url(backend)
    settings = settings_for(url, tmp_path)
    reset_schema(settings)
    with TestClient(create_app(settings)) as client:
        admin = session_headers(client)
        for name, price, stock in (("Kettle", "30.00", 4), ("Teapot", "18.50", 0), ("Cup", "4.25", 120)):
            created = client.post(
                "/app-b/v1/products", json={"name": name, "price": price, "stock": stock}, headers=admin
            )
            assert created.status_code == 201, created.text
    before = _catalogue(settings)
    assert [p["name"] for p in before] == ["Cup", "Kettle", "Teapot"]

    backups = tmp_path / "backups"
    backups.mkdir()
    database = make_url(url)
    env = {**_tool_environment(database), "BACKUP_DIR": str(backups), "BACKUP_KEEP": "2"}
    for _ in range(3):  # three backups, the newest two kept
        assert "backed up" in _script(tool, env, "backup")
    dumps = sorted(backups.iterdir())
    assert len(dumps) == 2, dumps

    anyio.run(_drop_and_create, database)
    assert _script(tool, env, "restore", str(dumps[-1])).startswith("restored")

    migrate = subprocess.run(
        [sys.executable, "-m", "kami", "migrate"],
        env=kami_env(tmp_path, KAMI_DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert "applying" not in migrate.stderr, migrate.stderr  # the restored schema is at head
    assert "up to date" in migrate.stderr
    assert _catalogue(settings) == before
