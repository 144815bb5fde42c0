from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from kami.store.backend import Backend, MemoryBackend, RedisBackend
from kami.store.pipelined import PipelinedRedis
from tests.conftest import service_url


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """Each store test runs on the in-memory backend and on real Redis."""
    if request.param == "memory":
        yield MemoryBackend()
        return
    backend = RedisBackend(PipelinedRedis.from_url(service_url("redis")))
    yield backend
    await backend.close()


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test (or earlier run) uses."""
    return f"test-{secrets.token_hex(4)}"
