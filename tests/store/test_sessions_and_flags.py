"""Server-side sessions and feature flags, on Redis and in memory, through the real app and CLI."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.testing import TestClient

from kami import ApiResponse, AppSpec, success
from kami.cli import main
from kami.pipeline.app import create_app
from kami.security import require_flag
from kami.settings import Settings
from kami.store.flags import FeatureFlags, Flag
from tests.conftest import service_url
from tests.support.redis import forget

KEY = "f" * 40


@get("/visits", summary="v", description="v")
async def visits(request: Request[Any, Any, Any]) -> ApiResponse[int]:
    request.session["visits"] = request.session.get("visits", 0) + 1
    return success(request.session["visits"])


@get("/beta", guards=[require_flag("beta")], summary="b", description="b")
async def beta() -> ApiResponse[str]:
    return success("beta")


@get("/flag/{name:str}", summary="f", description="f")
async def read_flag(name: FromPath[str], flags: NamedDependency[FeatureFlags]) -> ApiResponse[bool]:
    return success(await flags.is_enabled(name, app="flagged"))


@post("/flag/{name:str}", summary="s", description="s")
async def set_flag(
    name: FromPath[str], data: JSONBody[Flag], flags: NamedDependency[FeatureFlags]
) -> ApiResponse[None]:
    await flags.set(name, data)
    return success(None)


SPEC = AppSpec(
    name="flagged",
    prefix="/flagged",
    code_range=range(93000, 93100),
    route_handlers=[visits, beta, read_flag, set_flag],
    sessions=True,
)


@pytest.fixture(params=["memory", "redis"])
def settings(request: pytest.FixtureRequest, make_settings: Callable[..., Settings]) -> Settings:
    if request.param == "memory":
        return make_settings(KAMI_SECRET_KEY=KEY)
    url = service_url("redis")
    forget(url, "flags:*", "flagged:session:*")
    return make_settings(KAMI_SECRET_KEY=KEY, KAMI_REDIS_URL=url)


def test_sessions_are_kept_server_side(settings: Settings) -> None:
    with TestClient(create_app(settings, [SPEC])) as client:
        assert [client.get("/flagged/visits").json()["data"] for _ in range(3)] == [1, 2, 3]
        cookie = client.cookies.get("flagged-session")
        assert cookie
        assert len(cookie) < 100
        client.cookies.clear()
        assert client.get("/flagged/visits").json()["data"] == 1


def test_flags_change_at_runtime(settings: Settings) -> None:
    with TestClient(create_app(settings, [SPEC])) as client:
        assert client.get("/flagged/beta").status_code == 404
        client.post("/flagged/flag/beta", json={"enabled": True})
        assert client.get("/flagged/beta").json()["data"] == "beta"
        client.post("/flagged/flag/beta", json={"enabled": True, "apps": {"flagged": False}})
        assert client.get("/flagged/beta").status_code == 404
        assert client.get("/flagged/flag/beta").json()["data"] is False


def test_percentage_rollout_is_stable_per_caller() -> None:
    flag = Flag(enabled=True, percentage=30)
    callers = [f"user-{i}" for i in range(1000)]
    allowed = [c for c in callers if flag.allows("beta", None, c)]
    assert 230 < len(allowed) < 370
    assert allowed == [c for c in callers if flag.allows("beta", None, c)]
    assert not flag.allows("beta", None, None)
    assert not Flag(enabled=False, percentage=100).allows("beta", None, "x")


def test_flags_command_reaches_a_running_app(make_settings: Callable[..., Settings]) -> None:
    url = service_url("redis")
    forget(url, "flags:*")
    env = {"KAMI_REDIS_URL": url, "KAMI_ENV_FILE": os.devnull}
    settings = make_settings(KAMI_SECRET_KEY=KEY, KAMI_REDIS_URL=url)
    with TestClient(create_app(settings, [SPEC])) as client:
        assert client.get("/flagged/beta").status_code == 404
        result = CliRunner().invoke(main, ["flags", "set", "beta", "--on"], env=env)
        assert result.exit_code == 0, result.output
        assert client.get("/flagged/beta").status_code == 200
        shown = CliRunner().invoke(main, ["flags", "get", "beta"], env=env)
        assert '"enabled": true' in shown.output
        assert (
            CliRunner().invoke(main, ["flags", "set", "beta", "--app", "flagged=maybe"], env=env).exit_code
            == 2
        )
        assert CliRunner().invoke(main, ["flags", "delete", "beta"], env=env).exit_code == 0
        assert client.get("/flagged/beta").status_code == 404
        assert CliRunner().invoke(main, ["flags", "get", "beta"], env=env).exit_code == 1
