"""Cache-aside (invalidation, stampede protection, outages) and the distributed lock."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import msgspec
import pytest

from kami.cache import Cache, DistributedLock, LockNotAcquiredError, Store
from kami.observability.events import event_total
from kami.store.backend import Backend, RedisBackend
from kami.store.pipelined import PipelinedRedis
from tests.conftest import service_url
from tests.support.proxy import TcpProxy


class Item(msgspec.Struct):
    name: str
    price: int


async def test_get_or_compute_caches_and_invalidates(backend: Backend, prefix: str) -> None:
    cache = Cache(Store(backend, prefix))
    calls = 0

    async def load() -> Item:
        nonlocal calls
        calls += 1
        return Item("cup", calls)

    assert await cache.get_or_compute("item:1", load, decode_as=Item, ttl=30) == Item("cup", 1)
    assert await cache.get_or_compute("item:1", load, decode_as=Item, ttl=30) == Item("cup", 1)
    await cache.invalidate("item:1")
    assert await cache.get_or_compute("item:1", load, decode_as=Item, ttl=30) == Item("cup", 2)
    assert calls == 2


async def test_tag_invalidation_drops_every_page(backend: Backend, prefix: str) -> None:
    cache = Cache(Store(backend, prefix))
    version = 1

    async def page() -> list[int]:
        return [version]

    for key in ("list:1", "list:2"):
        await cache.get_or_compute(key, page, decode_as=list[int], ttl=30, tags=["items"])
    version = 2
    await cache.invalidate(tags=["items"])
    for key in ("list:1", "list:2"):
        assert await cache.get_or_compute(key, page, decode_as=list[int], ttl=30, tags=["items"]) == [2]


async def test_a_read_overlapping_a_write_does_not_store_stale_data(backend: Backend, prefix: str) -> None:
    cache = Cache(Store(backend, prefix))
    database = {"price": 1}
    read_started = asyncio.Event()
    write_done = asyncio.Event()

    async def slow_read() -> Item:
        value = Item("cup", database["price"])  # reads the old row...
        read_started.set()
        await write_done.wait()  # ...while a write commits and invalidates
        return value

    reader = asyncio.create_task(cache.get_or_compute("item:1", slow_read, decode_as=Item, ttl=30))
    await read_started.wait()
    database["price"] = 2
    await cache.invalidate("item:1")
    write_done.set()
    assert (await reader).price == 1  # that caller saw the old value...

    async def fresh() -> Item:
        return Item("cup", database["price"])

    assert (await cache.get_or_compute("item:1", fresh, decode_as=Item, ttl=30)).price == 2  # ...nobody after


async def test_only_one_caller_computes_a_missing_key(backend: Backend, prefix: str) -> None:
    cache = Cache(Store(backend, prefix))
    calls = 0

    async def expensive() -> Item:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        return Item("cup", 7)

    results = await asyncio.gather(
        *(cache.get_or_compute("hot", expensive, decode_as=Item, ttl=30) for _ in range(20))
    )
    assert calls == 1
    assert all(r == Item("cup", 7) for r in results)


async def test_cache_falls_through_when_redis_is_cut(prefix: str) -> None:
    target = urlsplit(service_url("redis"))
    with TcpProxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        client = PipelinedRedis.from_url(f"redis://127.0.0.1:{proxy.port}/15", timeout=0.5)
        cache = Cache(Store(RedisBackend(client), prefix))

        async def load() -> Item:
            return Item("db", 1)

        assert await cache.get_or_compute("k", load, decode_as=Item, ttl=30) == Item("db", 1)
        proxy.cut()
        errors = event_total("cache_errors", namespace=prefix)
        assert await cache.get_or_compute("k", load, decode_as=Item, ttl=30) == Item("db", 1)
        await cache.invalidate("k")  # a write's invalidation must not raise
        assert event_total("cache_errors", namespace=prefix) > errors
        proxy.restore()
        assert await cache.get_or_compute("k", load, decode_as=Item, ttl=30) == Item("db", 1)
        await client.close()


async def test_lock_excludes_and_releases_safely(backend: Backend, prefix: str) -> None:
    store = Store(backend, prefix)
    holders = 0
    most = 0

    async def work() -> None:
        nonlocal holders, most
        async with DistributedLock(store, "job", ttl=5, wait=5):
            holders += 1
            most = max(most, holders)
            await asyncio.sleep(0.02)
            holders -= 1

    await asyncio.gather(*(work() for _ in range(10)))
    assert most == 1

    first = DistributedLock(store, "short", ttl=0.1, wait=0)
    assert await first.acquire()
    await asyncio.sleep(0.15)  # first's lease ran out
    second = DistributedLock(store, "short", ttl=5, wait=0)
    assert await second.acquire()
    assert not await first.release()  # the late holder cannot release the new holder's lock
    with pytest.raises(LockNotAcquiredError):
        async with DistributedLock(store, "short", ttl=5, wait=0.05):
            pass
    assert await second.release()
