from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from kami.pipeline.app import create_app
from kami.settings import Settings, load_settings
from tests.conftest import service_url
from tests.support.backends import BACKENDS, reset_schema, truncate_app_tables
from tests.support.proxy import TcpProxy
from tests.support.tokens import session_headers


def backend_url(name: str, folder: Path) -> str:
    if name == "sqlite":
        return f"sqlite+aiosqlite:///{folder / 'kami.db'}"
    return service_url(name)


def settings_for(url: str, folder: Path, **extra: str) -> Settings:
    return load_settings(
        {
            "KAMI_DATABASE_URL": url,
            "KAMI_DATABASE_AUTO_MIGRATE": "false",
            "KAMI_DATA_DIR": str(folder),
            "KAMI_ENV_FILE": str(folder / "absent.env"),
            "KAMI_SECRET_KEY": "t" * 40,
            # A replaced refresh token is a copy at once (tests/accounts/test_sessions.py tests the grace).
            "KAMI_REFRESH_GRACE_SECONDS": "0",
            **extra,
        }
    )


@pytest.fixture(scope="session", params=BACKENDS)
def migrated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One database per backend, emptied and migrated to head once per session."""
    folder = tmp_path_factory.mktemp(request.param)
    settings = settings_for(backend_url(request.param, folder), folder)
    reset_schema(settings)
    return settings


@pytest.fixture
def db_settings(migrated: Settings) -> Settings:
    """The backend's database with every app table emptied."""
    truncate_app_tables(migrated)
    return migrated


@pytest.fixture
def client(db_settings: Settings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(create_app(db_settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:  # type: ignore[type-arg]
    """An admin's session on the app ``client`` drives."""
    return session_headers(client, "admin", "00000000-0000-0000-0000-000000000001")


@pytest.fixture
def mysql_at_head(tmp_path: Path) -> Settings:
    """The CI MariaDB database, emptied and migrated: what a migration job leaves behind."""
    settings = settings_for(service_url("mysql"), tmp_path / "migrate")
    reset_schema(settings)
    return settings


@contextmanager
def mysql_behind_a_proxy(folder: Path) -> Iterator[tuple[Settings, TcpProxy]]:
    """The CI MariaDB database, emptied and migrated, reached through a TCP proxy the test can cut."""
    real = make_url(service_url("mysql"))
    reset_schema(settings_for(real.render_as_string(hide_password=False), folder))
    parts = urlsplit(real.render_as_string(hide_password=False))
    with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 3306) as proxy:
        proxied = real.set(port=proxy.port).render_as_string(hide_password=False)
        yield settings_for(proxied, folder), proxy
