"""HTTP response caching: fresh envelope ids on hits, ETag and 304, invalidation by tag, per caller."""

from __future__ import annotations

from collections.abc import Callable

from litestar import get
from litestar.di import NamedDependency
from litestar.testing import TestClient

from kami import ApiResponse, AppSpec, BusinessError, Codes, ResponseCache, route_options, success
from kami.cache import Cache, Store
from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.redis import forget
from tests.support.tokens import session_headers

calls = {"count": 0}


@get(
    "/counted",
    opt=route_options(cache=ResponseCache(ttl=30, tags=("counted",))),
    summary="c",
    description="c",
)
async def counted() -> ApiResponse[dict[str, int]]:
    calls["count"] += 1
    return success({"calls": calls["count"], "padding": 0, **{f"k{i}": i for i in range(150)}})


@get("/mine", opt=route_options(cache=ResponseCache(ttl=30, personal=True)), summary="m", description="m")
async def mine() -> ApiResponse[int]:
    calls["count"] += 1
    return success(calls["count"])


@get("/refused", opt=route_options(cache=ResponseCache(ttl=30)), summary="r", description="r")
async def refused() -> ApiResponse[None]:
    calls["count"] += 1
    raise BusinessError(code=Codes.BUSINESS_RULE)


@get("/invalidate", summary="i", description="i")
async def invalidate(store: NamedDependency[Store]) -> ApiResponse[None]:
    await Cache(store).invalidate(tags=["counted"])
    return success(None)


SPEC = AppSpec(
    name="cached",
    prefix="/cached",
    code_range=range(92000, 92100),
    route_handlers=[counted, mine, refused, invalidate],
)
KEY = "r" * 40


def run(settings: Settings) -> None:
    calls["count"] = 0
    with TestClient(create_app(settings, [SPEC])) as client:
        first = client.get("/cached/counted")
        second = client.get("/cached/counted")
        assert first.json()["data"]["calls"] == second.json()["data"]["calls"] == 1
        assert first.json()["trace_id"] != second.json()["trace_id"]
        assert second.headers["x-trace-id"] == second.json()["trace_id"]
        assert second.headers["content-encoding"] == "gzip"  # over 1 KB, re-encoded on the hit
        etag = second.headers["etag"]
        assert first.headers["etag"] == etag
        assert "max-age=30" in second.headers["cache-control"]
        not_modified = client.get("/cached/counted", headers={"If-None-Match": etag})
        assert (not_modified.status_code, not_modified.content) == (304, b"")

        client.get("/cached/invalidate")
        assert client.get("/cached/counted").json()["data"]["calls"] == 2
        assert client.get("/cached/counted", headers={"If-None-Match": etag}).status_code == 200

        alice, bob = session_headers(client, "user", "alice"), session_headers(client, "user", "bob")
        a1, b1 = client.get("/cached/mine", headers=alice), client.get("/cached/mine", headers=bob)
        assert a1.json()["data"] != b1.json()["data"]
        assert client.get("/cached/mine", headers=alice).json()["data"] == a1.json()["data"]
        assert "private" in a1.headers["cache-control"]

        before = calls["count"]
        assert client.get("/cached/refused").json()["code"] == 2000
        assert client.get("/cached/refused").json()["code"] == 2000
        assert calls["count"] == before + 2  # failures are never cached


def test_response_cache_in_memory(make_settings: Callable[..., Settings]) -> None:
    run(make_settings(KAMI_SECRET_KEY=KEY))


def test_response_cache_on_redis(make_settings: Callable[..., Settings]) -> None:
    forget(service_url("redis"), "cached:*")
    run(make_settings(KAMI_SECRET_KEY=KEY, KAMI_REDIS_URL=service_url("redis")))
