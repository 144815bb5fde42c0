from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from kami.store.backend import Backend, MemoryBackend, RedisBackend
from tests.conftest import service_url


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """Each store test runs on the in-memory backend and on real Redis."""
    if request.param == "memory":
        yield MemoryBackend()
        return
    client = Redis.from_url(service_url("redis"))
    yield RedisBackend(client)
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test (or earlier run) uses."""
    return f"test-{secrets.token_hex(4)}"
