"""The ``kami`` command, run as operators run it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from click.testing import CliRunner

from kami.cli import main
from tests.support.servers import kami_env, run_kami


def test_config_prints_masked_settings(tmp_path: Path) -> None:
    env = kami_env(
        tmp_path, KAMI_DATABASE_URL="mysql+asyncmy://kami:topsecret@db/kami", KAMI_SECRET_KEY="s" * 40
    )
    result = CliRunner().invoke(main, ["config"], env=env)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["database"]["url"] == "mysql+asyncmy://kami:***@db/kami"
    assert shown["security"]["secret_key"] == "***"
    assert "topsecret" not in result.output


def test_config_rejects_invalid_values_with_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["config"], env=kami_env(tmp_path, KAMI_SERVER_WORKERS="many"))
    assert result.exit_code == 2
    assert "KAMI_SERVER_WORKERS" in result.output
    assert "Traceback" not in result.output


def test_production_refuses_to_start_with_embedded_defaults(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve"], env=kami_env(tmp_path, KAMI_ENVIRONMENT="production"))
    assert result.exit_code == 2
    assert "KAMI_DATABASE_URL" in result.output


def test_serve_starts_on_the_embedded_default(tmp_path: Path) -> None:
    """The README's first command: no configuration, SQLite + in-memory store, /health answers."""
    with run_kami(kami_env(tmp_path)) as kami:
        response = httpx.get(f"{kami.url}/health", timeout=5)
        assert response.status_code == 200
        body = response.json()
        assert body["code"] == 0
        assert body["data"]["components"]["database"]["status"] == "ok"
        assert (tmp_path / "data" / "kami.db").exists()
    assert kami.process.returncode == 0, kami.output()
