"""The generated references are current, complete, and the check catches a stale copy."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from kami.app_spec import load_apps, register_codes
from kami.cli import main
from kami.codes import registry
from kami.settings import describe_variables, load_settings

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"


def test_committed_references_are_up_to_date() -> None:
    result = CliRunner().invoke(main, ["reference", "--write", str(ROOT), "--check"])
    assert result.exit_code == 0, result.output


def test_references_cover_every_variable_and_code() -> None:
    configuration = (DOCS / "configuration.md").read_text()
    for name, *_ in describe_variables():
        assert f"| `{name}` |" in configuration
    assert "production needs Redis" not in configuration  # requirements are phrased for the table
    assert "| `KAMI_REDIS_URL` | str | (empty) | Redis, not the in-memory store |" in configuration
    codes = (DOCS / "codes.md").read_text()
    everything = registry.platform_only()
    for spec in load_apps(load_settings({"KAMI_ENV_FILE": "/nonexistent"}).app.apps):
        register_codes(spec, everything)
    for code in everything:
        assert f"| {code.code} | {code.message} | {code.http_status} | {code.owner} |" in codes


def test_check_fails_on_a_stale_copy(tmp_path: Path) -> None:
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copytree(ROOT / "infra" / "observability", tmp_path / "infra" / "observability")
    stale = tmp_path / "docs" / "codes.md"
    stale.write_text(stale.read_text().replace("Insufficient stock", "Out of stock"))
    result = CliRunner().invoke(main, ["reference", "--write", str(tmp_path), "--check"])
    assert result.exit_code == 1
    assert "docs/codes.md" in result.output
    assert "configuration.md" not in result.output
    assert "slo-alerts.yaml" not in result.output
