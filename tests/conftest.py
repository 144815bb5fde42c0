"""Shared fixtures: settings built from explicit variables, and the real services CI provides.

Real services are named by ``KAMI_TEST_MYSQL_URL``, ``KAMI_TEST_POSTGRES_URL`` and
``KAMI_TEST_REDIS_URL``. Locally a missing one skips its tests; with ``KAMI_TEST_REQUIRE_SERVICES=1``
(as ``.ci/run`` sets) a missing or unreachable service fails them instead.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kami.settings import Settings, load_settings

SERVICES = {
    "mysql": "KAMI_TEST_MYSQL_URL",
    "postgres": "KAMI_TEST_POSTGRES_URL",
    "redis": "KAMI_TEST_REDIS_URL",
    "mysql_replica": "KAMI_TEST_MYSQL_REPLICA_URL",
    "postgres_replica": "KAMI_TEST_POSTGRES_REPLICA_URL",
}


def _reachable(url: str) -> bool:
    parts = urlsplit(url.replace("+asyncmy", "").replace("+asyncpg", ""))
    default = {"mysql": 3306, "postgresql": 5432, "redis": 6379}.get(parts.scheme, 0)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default), timeout=2):
            return True
    except OSError:
        return False


def service_url(name: str) -> str:
    """The URL of a real service, or skip (locally) / fail (CI) when it is not available."""
    variable = SERVICES[name]
    url = os.environ.get(variable, "")
    required = os.environ.get("KAMI_TEST_REQUIRE_SERVICES") == "1"
    if not url or not _reachable(url):
        reason = f"{name} unavailable: set {variable} to a reachable server"
        if required:
            pytest.fail(f"{reason} (required in CI)")
        pytest.skip(reason)
    return url


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """``make_settings(KAMI_X="...")``: settings from exactly these variables, on a private data folder."""

    def build(**env: str) -> Settings:
        base = {"KAMI_DATA_DIR": str(tmp_path / "data"), "KAMI_ENV_FILE": str(tmp_path / "absent.env")}
        return load_settings({**base, **env})

    return build


@pytest.fixture
def sqlite_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(autouse=True)
def _isolate_code_registry() -> Iterator[None]:
    """Apps reserve code ranges when mounted; forget them after each test."""
    from kami.codes import registry

    before = {code.owner for code in registry} | set(registry._ranges)
    yield
    for owner in set(registry._ranges) - before:
        registry.release(owner)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI every test must run: a skip there means a service or a tool was missing."""
    if os.environ.get("KAMI_TEST_REQUIRE_SERVICES") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter:
            reporter.write_line(f"CI: {skipped} test(s) skipped; every test must run in CI", red=True)


pytest_plugins = ["tests.support.databases", "tests.support.shop"]
