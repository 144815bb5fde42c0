"""Route declarations are typed and checked when the application is built, never per request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import get, post
from litestar.testing import TestClient

from kami import ApiResponse, AppSpec, Permission, RateLimit, ResponseCache, route_options, success
from kami.pipeline.app import create_app
from kami.routes import RouteDeclarationError
from kami.security import require
from kami.settings import Settings


def test_rates_parse_the_settings_spelling_and_refuse_nonsense() -> None:
    assert RateLimit.parse("100/minute") == RateLimit(100, "minute")
    assert RateLimit.parse("5/10seconds") == RateLimit(5, "second", every=10)
    assert RateLimit(5, "second", every=10).window == 10.0
    for bad in ("0/minute", "ten/minute", "5/fortnight", ""):
        with pytest.raises(ValueError, match="not a rate"):
            RateLimit.parse(bad)
    with pytest.raises(ValueError, match="at least 1 request"):
        RateLimit(0)
    with pytest.raises(ValueError, match="per must be one of"):
        RateLimit(10, "fortnight")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1 second"):
        ResponseCache(ttl=0)
    with pytest.raises(ValueError, match="tuple of non-empty strings"):
        ResponseCache(ttl=5, tags="products")  # type: ignore[arg-type]


def _app_with(**handler_options: Any) -> AppSpec:
    @get("/thing", summary="t", description="t", **handler_options)
    async def thing() -> ApiResponse[str]:
        return success("ok")

    return AppSpec(
        name="declared", prefix="/declared", code_range=range(93000, 93100), route_handlers=[thing]
    )


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"opt": {"cache_tll": 60}}, "unknown route option 'cache_tll'"),
        ({"opt": {"rate_limit": "ten per minute"}}, "unknown route option 'rate_limit'"),
        ({"opt": {"kami": {"cache": 60}}}, "must come from route_options"),
        ({"cache": 60}, "Litestar's cache="),
    ],
)
def test_a_bad_declaration_stops_startup_naming_the_route(
    make_settings: Callable[..., Settings], options: dict[str, Any], problem: str
) -> None:
    with pytest.raises(RouteDeclarationError, match=r"declared: GET.* /declared/thing") as info:
        create_app(make_settings(), [_app_with(**options)])
    assert problem in str(info.value)


def test_a_response_cache_on_a_write_route_stops_startup(make_settings: Callable[..., Settings]) -> None:
    @post("/thing", summary="t", description="t", opt=route_options(cache=ResponseCache(ttl=5)))
    async def thing() -> ApiResponse[str]:
        return success("ok")

    spec = AppSpec(
        name="declared", prefix="/declared", code_range=range(93000, 93100), route_handlers=[thing]
    )
    with pytest.raises(RouteDeclarationError, match="only GET routes"):
        create_app(make_settings(), [spec])


def test_a_guard_on_an_undeclared_permission_stops_startup(make_settings: Callable[..., Settings]) -> None:
    declared, forgotten = Permission("things.read", "Read things"), Permission("things.write", "Write")

    @get("/read", summary="t", description="t", guards=[require(declared)])
    async def read() -> ApiResponse[str]:
        return success("ok")

    @post("/write", summary="t", description="t", guards=[require(forgotten)])
    async def write() -> ApiResponse[str]:
        return success("ok")

    spec = AppSpec(
        name="guarded",
        prefix="/guarded",
        code_range=range(93100, 93200),
        route_handlers=[read, write],
        permissions=[declared],  # things.write is not declared
    )
    with pytest.raises(RouteDeclarationError, match=r"POST /guarded/write: require\(things.write\)"):
        create_app(make_settings(), [spec])
    with_both = AppSpec(
        name="guarded",
        prefix="/guarded",
        code_range=range(93100, 93200),
        route_handlers=[read, write],
        permissions=[declared, forgotten],
    )
    with TestClient(create_app(make_settings(), [with_both])) as client:
        document = client.get("/schema/openapi.json").json()
    assert document["paths"]["/guarded/write"]["post"]["security"][0] == {
        "bearerToken": ["guarded:things.write"]
    }


def test_declared_rate_limits_apply_from_the_first_request(make_settings: Callable[..., Settings]) -> None:
    spec = _app_with(opt=route_options(rate_limit=RateLimit(2, "minute")))
    with TestClient(create_app(make_settings(), [spec])) as client:
        answers = [client.get("/declared/thing").status_code for _ in range(3)]
    assert answers == [200, 200, 429]
