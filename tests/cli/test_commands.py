"""The ``kami`` command, run as operators run it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from kami.cli import main
from tests.conftest import service_url
from tests.support.servers import free_port, kami_env, run_kami

ROOT = Path(__file__).parents[2]


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


def test_migrate_explains_an_unreachable_database(tmp_path: Path) -> None:
    port = free_port()
    env = kami_env(tmp_path, KAMI_DATABASE_URL=f"mysql+asyncmy://kami:pw@127.0.0.1:{port}/kami")
    result = CliRunner().invoke(main, ["migrate"], env=env)
    assert result.exit_code == 1
    assert (
        f"KAMI_DATABASE_URL: cannot connect to 127.0.0.1:{port} (connection refused) — "
        "is MySQL running and reachable?"
    ) in result.output
    assert "Traceback" not in result.output


def test_migrate_explains_a_wrong_password(tmp_path: Path) -> None:
    url = make_url(service_url("mysql")).set(password="certainly-wrong")
    env = kami_env(tmp_path, KAMI_DATABASE_URL=url.render_as_string(hide_password=False))
    result = CliRunner().invoke(main, ["migrate"], env=env)
    assert result.exit_code == 1
    assert "access denied — check KAMI_DATABASE_USER and KAMI_DATABASE_PASSWORD" in result.output
    assert "certainly-wrong" not in result.output


def test_migrate_names_each_revision_it_applies(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["migrate"], env=kami_env(tmp_path))
    assert result.exit_code == 0, result.output
    applied = [line for line in result.output.splitlines() if line.startswith("  applying ")]
    assert len(applied) == len(list((ROOT / "apps" / "migrations" / "versions").glob("[0-9a-f]*_*.py")))
    assert "database schema is up to date" in result.output
    again = CliRunner().invoke(main, ["migrate"], env=kami_env(tmp_path))
    assert "applying" not in again.output


def test_serve_warns_about_an_unreachable_redis_and_serves_anyway(tmp_path: Path) -> None:
    port = free_port()
    with run_kami(kami_env(tmp_path, KAMI_REDIS_URL=f"redis://127.0.0.1:{port}/0")) as kami:
        assert httpx.get(f"{kami.url}/health/live", timeout=5).status_code == 200
        assert httpx.get(f"{kami.url}/health/ready", timeout=10).status_code == 503
    warning = (
        f"KAMI_REDIS_URL: cannot connect to 127.0.0.1:{port} (connection refused) — "
        "is Redis running and reachable?; serving anyway"
    )
    assert re.search(rf"\[warning\s*\] {re.escape(warning)}.*\[kami\.cli\.serve\]", kami.output())


def _commands(group: click.Group, prefix: list[str], extra: tuple[str, ...] = ()) -> list[list[str]]:
    found = []
    context = click.Context(group)
    for name in [*group.list_commands(context), *extra]:
        command = group.get_command(context, name)
        assert command is not None
        found.append([*prefix, name])
        if isinstance(command, click.Group):
            found += _commands(command, [*prefix, name])
    return found


def test_every_command_has_help(tmp_path: Path) -> None:
    env = kami_env(tmp_path)
    commands = _commands(main, [], extra=("users",))  # an app's command: found when named
    assert ["serve"] in commands
    assert ["db", "revision"] in commands
    assert ["users", "create-admin"] in commands  # an app's own command
    for path in [[], *commands]:
        result = CliRunner().invoke(main, [*path, "--help"], env=env)
        assert result.exit_code == 0, (path, result.output)
        usage, _, description = result.output.partition("\n\n")
        assert usage.startswith("Usage: "), path
        assert description.strip(), f"kami {' '.join(path)} has no description"
    assert "Exit codes: 0 success, 1 a command failed, 2 invalid configuration" in (
        CliRunner().invoke(main, ["--help"], env=env).output
    )


WEB_STACK = ("litestar", "advanced_alchemy", "granian", "opentelemetry", "apps")


@pytest.mark.parametrize("arguments", [["--help"], ["config"]])
def test_help_and_config_do_not_load_the_web_stack(arguments: list[str], tmp_path: Path) -> None:
    """What keeps ``kami --help`` and ``kami config`` well under a second (about 0.3 s here, against
    about 2 s for a command that loads the apps)."""
    script = (
        "import sys\nfrom kami.cli.main import main\n"
        f"try:\n    main({arguments!r})\nexcept SystemExit:\n    pass\n"
        f"print('loaded:', sorted({{m.split('.')[0] for m in sys.modules}} & {set(WEB_STACK)!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=kami_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "loaded: []", done.stdout + done.stderr


def test_colour_only_on_a_terminal(tmp_path: Path) -> None:
    env = kami_env(tmp_path, KAMI_SERVER_WORKERS="many")
    piped = CliRunner().invoke(main, ["config"], env=env, color=False)
    terminal = CliRunner().invoke(main, ["config"], env=env, color=True)
    assert piped.exit_code == terminal.exit_code == 2
    assert "\x1b[" not in piped.output
    assert "\x1b[31m" in terminal.output  # errors in red
