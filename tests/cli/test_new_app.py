"""``kami new-app`` on a copy of the project: the generated app passes its own tests at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from kami.cli import main

ROOT = Path(__file__).parents[2]


def test_new_app_passes_its_own_tests(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "apps", tmp_path / "apps", ignore=shutil.ignore_patterns("__pycache__"))
    # The suite's own rules come along (warnings are errors): generated code must not warn.
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(ROOT / "tests", tmp_path / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAMI_")}
    env |= {"PYTHONPATH": str(tmp_path), "KAMI_DATA_DIR": str(tmp_path / "data"), "KAMI_ENV_FILE": os.devnull}
    scaffold = subprocess.run(
        [sys.executable, "-m", "kami", "new-app", "notes", "--root", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert scaffold.returncode == 0, scaffold.stdout + scaffold.stderr
    for part in ("controllers", "services", "repositories", "models", "schemas"):
        assert (tmp_path / "apps" / "notes" / f"{part}.py").exists()
    migrations = list((tmp_path / "apps" / "migrations" / "versions").glob("*notes_tables.py"))
    assert len(migrations) == 1
    assert "notes_item" in migrations[0].read_text()

    tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/apps/test_notes.py",
            "-q",
            "-o",
            "addopts=",
            "-p",
            "no:cacheprovider",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "1 passed" in tests.stdout


def test_new_app_refuses_bad_names_and_existing_apps(tmp_path: Path) -> None:
    (tmp_path / "apps" / "taken").mkdir(parents=True)
    for name, message in (("Bad-Name", "lowercase"), ("taken", "already exists")):
        result = CliRunner().invoke(main, ["new-app", name, "--root", str(tmp_path)])
        assert result.exit_code == 2
        assert message in result.output


def test_apps_command_lists_mounted_apps_and_routes(tmp_path: Path) -> None:
    env = {"KAMI_DATA_DIR": str(tmp_path), "KAMI_ENV_FILE": os.devnull}
    result = CliRunner().invoke(main, ["apps"], env=env)
    assert result.exit_code == 0, result.output
    assert "app-a  /app-a  codes 10000-19999" in result.output
    assert "app-b  /app-b  codes 20000-29999" in result.output
    assert "/app-b/v1/products/{product_id:uuid}" in result.output
    only_b = CliRunner().invoke(main, ["apps"], env={**env, "KAMI_APPS": "apps.app_b"})
    assert "app-a" not in only_b.output
