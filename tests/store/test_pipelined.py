"""The store's shared Redis connection against a real Redis: replies reach the caller that sent the
command however many share it, and failures surface as redis-py's errors, never as a wrong reply."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from kami.store.pipelined import PipelinedRedis, Script
from tests.conftest import service_url


@pytest.fixture
async def redis() -> AsyncIterator[PipelinedRedis]:
    connection = PipelinedRedis.from_url(service_url("redis"), timeout=5)
    yield connection
    await connection.close()


async def test_concurrent_callers_each_get_their_own_reply(redis: PipelinedRedis) -> None:
    prefix = f"test-pipelined-{secrets.token_hex(4)}"
    # sizes from a few bytes to replies that arrive over several reads
    values = {f"{prefix}:{n}": secrets.token_bytes(n * 997 % 200_000) for n in range(300)}

    async def round_trip(key: str, value: bytes) -> bytes:
        await redis.execute("SET", key, value, "EX", 60)
        return await redis.execute("GET", key)  # type: ignore[no-any-return]

    replies = await asyncio.gather(*(round_trip(k, v) for k, v in values.items()))
    assert replies == list(values.values())
    assert await redis.execute("MGET", *values) == list(values.values())
    assert await redis.execute("UNLINK", *values) == len(values)


async def test_a_caller_that_gives_up_does_not_shift_the_replies_of_others(redis: PipelinedRedis) -> None:
    key = f"test-pipelined-{secrets.token_hex(4)}"
    await redis.execute("SET", key, b"mine", "EX", 60)
    abandoned = asyncio.create_task(redis.execute("ECHO", b"not mine"))
    await asyncio.sleep(0)  # sent, reply not read yet
    abandoned.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await abandoned
    assert await redis.execute("GET", key) == b"mine"
    assert await redis.execute("ECHO", b"next") == b"next"


async def test_an_error_reply_raises_and_the_connection_goes_on(redis: PipelinedRedis) -> None:
    key = f"test-pipelined-{secrets.token_hex(4)}"
    await redis.execute("SET", key, b"text", "EX", 60)
    with pytest.raises(ResponseError, match="not an integer"):
        await redis.execute("INCR", key)
    assert await redis.execute("PING") == b"PONG"
    assert await redis.execute("GET", key) == b"text"


async def test_a_script_the_server_forgot_is_loaded_again(redis: PipelinedRedis) -> None:
    script = Script(f"return ARGV[1] .. '-{secrets.token_hex(4)}'")  # a script no one loaded before
    first = await redis.run_script(script, [], [b"a"])
    assert first.startswith(b"a-")
    assert await redis.execute("SCRIPT", "EXISTS", script.sha) == [1]
    await redis.execute("SCRIPT", "FLUSH")
    assert await redis.run_script(script, [], [b"a"]) == first


async def test_a_lost_connection_is_replaced_on_the_next_command(redis: PipelinedRedis) -> None:
    before = await redis.execute("CLIENT", "ID")
    async with Redis.from_url(service_url("redis")) as admin:
        assert await admin.client_kill_filter(_id=before) == 1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            after = await redis.execute("CLIENT", "ID")
            break
        except RedisConnectionError:  # the loss noticed by this command; the next one reconnects
            continue
    assert after != before


async def test_a_silent_server_times_out_every_waiting_command() -> None:
    async def accept_and_say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(-1)

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    redis = PipelinedRedis.from_url(f"redis://127.0.0.1:{port}/0", timeout=0.3)
    try:
        started = time.monotonic()
        results = await asyncio.gather(*(redis.execute("PING") for _ in range(5)), return_exceptions=True)
        elapsed = time.monotonic() - started
    finally:
        await redis.close()
        server.close()
    assert all(isinstance(r, RedisTimeoutError) for r in results), results
    assert 0.25 <= elapsed < 2


async def test_a_refused_connection_is_a_connection_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redis = PipelinedRedis.from_url(f"redis://127.0.0.1:{port}/0", timeout=1)
    with pytest.raises(RedisConnectionError):
        await redis.execute("PING")


async def test_credentials_and_database_from_the_url() -> None:
    url = urlsplit(service_url("redis"))
    user, password = f"kami-test-{secrets.token_hex(4)}", secrets.token_hex(16)
    key = f"test-pipelined-{secrets.token_hex(4)}"
    async with Redis.from_url(service_url("redis")) as admin:
        await admin.acl_setuser(
            user, enabled=True, passwords=[f"+{password}"], keys=["test-*"], commands=["+@all"]
        )
        redis = PipelinedRedis.from_url(f"redis://{user}:{password}@{url.hostname}:{url.port}/13", timeout=2)
        wrong = PipelinedRedis.from_url(f"redis://{user}:wrong@{url.hostname}:{url.port}/13", timeout=2)
        try:
            await redis.execute("SET", key, b"in 13", "EX", 60)
            assert await admin.execute_command("SELECT", 13)
            assert await admin.get(key) == b"in 13"
            with pytest.raises(ResponseError):
                await redis.execute(
                    "SET", "not-test-prefixed", b"x"
                )  # the ACL applies: logged in as the user
            with pytest.raises(ResponseError, match="WRONGPASS"):
                await wrong.execute("PING")
        finally:
            await redis.close()
            await wrong.close()
            await admin.delete(key)
            await admin.acl_deluser(user)


async def test_a_slow_command_times_out_alone_and_the_connection_stays() -> None:
    """A Lua script that keeps Redis busy past the timeout fails on its own deadline; a command sent
    behind it whose own deadline is later gets its reply on the same connection."""
    busy = Script(
        "local t = redis.call('TIME'); local start = t[1] * 1000000 + t[2]; local now = start "
        "while now - start < tonumber(ARGV[1]) do t = redis.call('TIME'); now = t[1] * 1000000 + t[2] end "
        "return 1"
    )
    redis = PipelinedRedis.from_url(service_url("redis"), timeout=0.3)
    try:
        before = await redis.execute("CLIENT", "ID")
        await redis.run_script(busy, [], [1])  # loaded: the slow call below runs by hash at once
        slow = asyncio.create_task(redis.run_script(busy, [], [450_000]))  # busy 0.45 s
        await asyncio.sleep(0.2)
        behind = asyncio.create_task(redis.execute("PING"))  # sent at 0.2 s, its deadline 0.5 s
        with pytest.raises(RedisTimeoutError):
            await slow
        assert await behind == b"PONG"
        assert await redis.execute("CLIENT", "ID") == before  # never dropped, never reconnected
    finally:
        await redis.close()


async def test_writes_wait_while_redis_reads_nothing() -> None:
    """A server that stops reading: callers wait for the socket instead of piling megabytes into the
    write buffer, and time out."""

    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = await asyncio.start_server(never_read, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    redis = PipelinedRedis.from_url(f"redis://127.0.0.1:{port}/0", timeout=0.5)
    value = b"x" * 1_000_000
    try:
        sending = asyncio.gather(
            *(redis.execute("SET", "k", value) for _ in range(60)), return_exceptions=True
        )
        await asyncio.sleep(0.25)  # every caller has tried to write; nobody has timed out yet
        transport = redis._connection.transport if redis._connection else None
        buffered = transport.get_write_buffer_size() if transport else 0
        results = await sending
    finally:
        await redis.close()
        server.close()
    assert all(isinstance(r, RedisTimeoutError | RedisConnectionError) for r in results), results
    assert buffered < 8 * len(value), f"{buffered} bytes buffered for a server that reads nothing"


def test_one_reading_of_the_url_for_both_clients() -> None:
    from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection

    from kami.settings import RedisAddress, SettingsError, load_settings
    from kami.store.client import build_redis

    address = RedisAddress.parse("rediss://app%40x:p%3Ass@cache.internal:6380/4")
    assert address == RedisAddress("cache.internal", 6380, None, 4, "app@x", "p:ss", tls=True)
    assert RedisAddress.parse("unix:///run/redis.sock?db=2") == RedisAddress(path="/run/redis.sock", db=2)
    settings = load_settings({"KAMI_REDIS_URL": "rediss://app%40x:p%3Ass@cache.internal:6380/4"})
    pool = build_redis(settings).connection_pool  # type: ignore[union-attr]
    assert pool.connection_class is SSLConnection
    options = pool.connection_kwargs
    assert (options["host"], options["port"], options["db"]) == ("cache.internal", 6380, 4)
    assert (options["username"], options["password"]) == ("app@x", "p:ss")
    unix = build_redis(load_settings({"KAMI_REDIS_URL": "unix:///run/redis.sock?db=2"}))
    assert unix is not None
    assert unix.connection_pool.connection_class is UnixDomainSocketConnection
    for url, named in (
        ("redis://cache:6379/0?socket_timeout=5", "'socket_timeout'"),
        ("rediss://cache:6379/0?ssl_cert_reqs=none", "'ssl_cert_reqs'"),
        ("http://cache:6379/0", "scheme"),
    ):
        with pytest.raises(SettingsError, match=named) as info:
            load_settings({"KAMI_REDIS_URL": url})
        assert "KAMI_REDIS_URL" in str(info.value)
