"""The suite's own promise (README): what a machine lacks is skipped locally and fails in CI."""

from __future__ import annotations

import pytest

from tests.conftest import service_url, tool_path

ABSENT_TOOL = "kami-no-such-tool"


def test_a_missing_tool_is_skipped_locally_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAMI_TEST_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"{ABSENT_TOOL} is missing: a package provides it"):
        tool_path(ABSENT_TOOL, provided_by="a package")


def test_a_missing_tool_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAMI_TEST_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        tool_path(ABSENT_TOOL, provided_by="a package")


def test_an_installed_tool_is_found_by_any_of_its_names() -> None:
    assert tool_path(ABSENT_TOOL, "sh", provided_by="a package").endswith("/sh")


def test_an_unset_service_is_skipped_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAMI_TEST_REDIS_URL", raising=False)
    monkeypatch.delenv("KAMI_TEST_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="set KAMI_TEST_REDIS_URL"):
        service_url("redis")
    monkeypatch.setenv("KAMI_TEST_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        service_url("redis")
