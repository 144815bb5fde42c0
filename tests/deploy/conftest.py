from __future__ import annotations

from pathlib import Path

import pytest

from kami.settings import Settings
from tests.conftest import service_url
from tests.support.backends import reset_schema
from tests.support.databases import settings_for


@pytest.fixture
def mysql_at_head(tmp_path: Path) -> Settings:
    """The CI MariaDB database, emptied and migrated: what a migration job leaves behind."""
    settings = settings_for(service_url("mysql"), tmp_path / "migrate")
    reset_schema(settings)
    return settings
