"""Shared fixtures: settings built from explicit variables, and the real services and tools CI provides.

Real services are named by ``KAMI_TEST_MYSQL_URL``, ``KAMI_TEST_POSTGRES_URL`` and
``KAMI_TEST_REDIS_URL``; tools (Chromium, promtool, HAProxy, kubectl) are found on ``PATH``. Locally a
missing one skips its tests with the reason; with ``KAMI_TEST_REQUIRE_SERVICES=1`` (as ``.ci/run``
sets, after installing them) a missing one fails them instead.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

from kami.overrides.upstream_warnings import filterwarnings_lines, silence_upstream_warnings
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


def unavailable(reason: str) -> NoReturn:
    """Skip the test (locally) or fail it (CI, ``KAMI_TEST_REQUIRE_SERVICES=1``): what it needs is missing."""
    if os.environ.get("KAMI_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def service_url(name: str) -> str:
    """The URL of a real service, or :func:`unavailable` when it is not reachable."""
    variable = SERVICES[name]
    url = os.environ.get(variable, "")
    if not url or not _reachable(url):
        unavailable(f"{name} unavailable: set {variable} to a reachable server")
    return url


def tool_path(*names: str, provided_by: str) -> str:
    """The first of ``names`` installed (``PATH``, then the system folders Debian puts daemons in),
    or :func:`unavailable` naming what provides it."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    for name in names:
        found = shutil.which(name, path=search)
        if found:
            return found
    unavailable(f"{names[0]} is missing: {provided_by} provides it (CI requires it)")


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


# Every warning is an error (pyproject), except what a library says about itself: one list, applied
# while pytest imports the plugins below and, through the ini filters, around every test.
silence_upstream_warnings()


def pytest_configure(config: pytest.Config) -> None:
    for line in filterwarnings_lines():
        config.addinivalue_line("filterwarnings", line)


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
