"""One shared Redis connection per process for the store's commands, pipelined automatically.

redis-py takes a connection from its pool for every command and waits on it for the reply: about
120 µs of CPU per command on this stack, whatever the load. Redis answers the commands of one
connection in the order they were sent, so concurrent callers can share one connection: each
command is written at once, each caller waits on a future queued in sending order, and the
commands of all requests in flight leave and return together (about 15 µs per command with 32
callers; ``bench/redis_commands.py`` measures both). Only commands that stand alone may go this way
(GET, SET, EVALSHA, SCAN ...): MULTI, blocking pops and pub/sub need a connection to themselves and
stay on redis-py (the job queue).

Failure behaves like redis-py's for callers: a refused or lost connection raises
``redis.exceptions.ConnectionError`` (the next command reconnects), a reply later than ``timeout``
raises ``redis.exceptions.TimeoutError`` for every command waiting behind it and drops the
connection, an error reply raises ``ResponseError``. A sampled request gets a client span per
command, as redis-py's instrumentation gives it.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer
from redis.asyncio.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["Arg", "PipelinedRedis", "RedisAddress", "Script"]

Arg = bytes | str | int | float


@dataclass(frozen=True)
class RedisAddress:
    """Where and as whom to connect, read from a ``redis://``, ``rediss://`` or ``unix://`` URL."""

    host: str = "127.0.0.1"
    port: int = 6379
    path: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def from_url(cls, url: str) -> RedisAddress:
        found = parse_url(url)
        tls = url.startswith("rediss://")
        return cls(
            host=str(found.get("host") or "127.0.0.1"),
            port=int(found.get("port") or 6379),
            path=found.get("path"),
            db=int(found.get("db") or 0),
            username=found.get("username"),
            password=found.get("password"),
            tls=tls,
        )


def _encode(args: tuple[Arg, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


def _parse(buffer: bytearray, pos: int) -> tuple[Any, int] | None:
    """One RESP2 reply starting at ``pos``: ``(value, next position)``, or None until it is complete.
    Error replies are returned as exceptions, for the caller that sent the command to raise."""
    end = buffer.find(b"\r\n", pos)
    if end < 0:
        return None
    kind, line, pos = buffer[pos], bytes(buffer[pos + 1 : end]), end + 2
    if kind == 0x24:  # $ bulk string
        size = int(line)
        if size < 0:
            return None, pos
        if len(buffer) < pos + size + 2:
            return None
        return bytes(buffer[pos : pos + size]), pos + size + 2
    if kind == 0x3A:  # : integer
        return int(line), pos
    if kind == 0x2B:  # + simple string
        return line, pos
    if kind == 0x2D:  # - error
        text = line.decode(errors="replace")
        return (NoScriptError(text) if text.startswith("NOSCRIPT") else ResponseError(text)), pos
    if kind == 0x2A:  # * array
        count = int(line)
        if count < 0:
            return None, pos
        items: list[Any] = []
        for _ in range(count):
            found = _parse(buffer, pos)
            if found is None:
                return None
            items.append(found[0])
            pos = found[1]
        return items, pos
    raise ValueError(f"not a RESP2 reply: {bytes(buffer[pos - 2 : end])!r}")


class _Connection(asyncio.Protocol):
    """The socket: writes commands as they come, hands replies to the waiting futures in order."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self._buffer = bytearray()
        self._watchdog: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, args: tuple[Arg, ...]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if self.transport is not None and self.transport.is_closing():
            # The peer hung up and connection_lost has not run yet: writing now would be dropped
            # silently and the caller would wait for the timeout. Fail now; the next command reconnects.
            self._fail(RedisConnectionError("Redis connection closed"))
        if self.closed or self.transport is None:
            future.set_exception(RedisConnectionError("Redis connection closed"))
            return future
        self._waiting.append((future, loop.time()))
        self.transport.write(_encode(args))
        if self._watchdog is None:
            self._watchdog = loop.call_later(self.timeout, self._check_deadline)
        return future

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        pos = 0
        while self._waiting:
            found = _parse(buffer, pos)
            if found is None:
                break
            reply, pos = found
            future, _ = self._waiting.popleft()
            if not future.done():  # a caller that gave up (cancelled) still had its reply in line
                future.set_result(reply)
        del buffer[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(RedisConnectionError(f"Redis connection lost: {exc or 'closed by the server'}"))

    def close(self) -> None:
        """Stop: commands still waiting fail, the socket closes once written out."""
        self._fail(RedisConnectionError("Redis connection closed"), abort=False)

    def _check_deadline(self) -> None:
        """The oldest command decides: every reply behind a late one is late too."""
        self._watchdog = None
        if not self._waiting:
            return
        late = asyncio.get_running_loop().time() - self._waiting[0][1]
        if late >= self.timeout:
            self._fail(RedisTimeoutError(f"no reply from Redis within {self.timeout:g}s"))
        else:
            self._watchdog = asyncio.get_running_loop().call_later(self.timeout - late, self._check_deadline)

    def _fail(self, error: Exception, *, abort: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():
                future.set_exception(error)
        if self.transport is not None:
            if abort:
                self.transport.abort()
            else:
                self.transport.close()


class Script:
    """A Lua script run by hash, loaded again if the server has forgotten it (restart, SCRIPT FLUSH)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


class PipelinedRedis:
    def __init__(self, address: RedisAddress, *, timeout: float) -> None:
        self.address = address
        self.timeout = timeout
        self.tracer: Tracer | None = None  # set by telemetry: spans for sampled requests' commands
        self._connection: _Connection | None = None
        self._connecting = asyncio.Lock()

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 2.0) -> PipelinedRedis:
        return cls(RedisAddress.from_url(url), timeout=timeout)

    async def execute(self, *args: Arg) -> Any:
        """Send one command and return its reply (bytes, int, list, None)."""
        connection = self._connection
        if connection is None or connection.closed:
            connection = await self._connect()
        span = self._span(self.tracer, args) if self.tracer is not None else None
        try:
            reply = await connection.send(args)
        except BaseException as exc:
            if span is not None:
                span.record_exception(exc)
                span.set_status(trace.StatusCode.ERROR)
                span.end()
            raise
        if span is not None:
            span.end()
        if isinstance(reply, Exception):
            raise reply
        return reply

    async def run_script(self, script: Script, keys: list[str], args: list[Arg]) -> Any:
        try:
            return await self.execute("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await self.execute("EVAL", script.source, len(keys), *keys, *args)

    def _span(self, tracer: Tracer, args: tuple[Arg, ...]) -> trace.Span | None:
        """A client span only inside a recorded one (redis-py's instrumentation does the same work
        for sampled requests; unsampled ones run with instrumentation suppressed)."""
        if not trace.get_current_span().is_recording():
            return None
        name = str(args[0])
        address = self.address
        return tracer.start_span(
            name,
            kind=SpanKind.CLIENT,
            attributes={
                "db.system": "redis",
                "db.statement": name if name.startswith("EVAL") else " ".join(str(a) for a in args[:2]),
                "db.redis.database_index": address.db,
                "net.peer.name": address.path or address.host,
                "net.peer.port": address.port,
            },
        )

    async def _connect(self) -> _Connection:
        async with self._connecting:
            if self._connection is not None and not self._connection.closed:
                return self._connection
            started = time.monotonic()
            loop = asyncio.get_running_loop()
            address = self.address
            try:
                async with asyncio.timeout(self.timeout):
                    if address.path:
                        _, connection = await loop.create_unix_connection(
                            lambda: _Connection(self.timeout), address.path
                        )
                    else:
                        _, connection = await loop.create_connection(
                            lambda: _Connection(self.timeout),
                            address.host,
                            address.port,
                            ssl=ssl.create_default_context() if address.tls else None,
                        )
                    await self._introduce(connection)
            except TimeoutError as exc:
                raise RedisTimeoutError(
                    f"connecting to Redis took over {self.timeout:g}s ({time.monotonic() - started:.1f}s)"
                ) from exc
            except OSError as exc:
                raise RedisConnectionError(f"cannot connect to Redis: {exc}") from exc
            self._connection = connection
            return connection

    async def _introduce(self, connection: _Connection) -> None:
        """Log in and choose the database; a refusal closes the new connection."""
        address = self.address
        try:
            if address.password:
                login = (address.username, address.password) if address.username else (address.password,)
                await self._checked(connection.send(("AUTH", *login)))
            if address.db:
                await self._checked(connection.send(("SELECT", address.db)))
        except BaseException:
            connection.close()
            raise

    @staticmethod
    async def _checked(reply: asyncio.Future[Any]) -> None:
        value = await reply
        if isinstance(value, Exception):
            raise value

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        self._connecting = asyncio.Lock()  # a later lifespan may run in another event loop
        if connection is not None:
            connection.close()
