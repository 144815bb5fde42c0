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
``redis.exceptions.ConnectionError`` (the next command reconnects), an error reply raises
``ResponseError``, and a command whose reply has not come within ``timeout`` of sending it raises
``redis.exceptions.TimeoutError`` — that command only: the others keep their own deadlines, and its
reply, when it comes, is read and dropped. The connection itself is given up only when nothing at
all has come back for ``DEAD_AFTER`` timeouts while a command waited (a half-open socket).

Buffers are bounded: at most ``MAX_IN_FLIGHT`` commands wait for replies (more callers queue for a
slot), and while the socket's write buffer is over its high-water mark callers wait before writing.
A sampled request gets a client span per command, as redis-py's instrumentation gives it.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections import deque
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from kami.settings import RedisAddress

__all__ = ["DEAD_AFTER", "MAX_IN_FLIGHT", "Arg", "PipelinedRedis", "Script"]

Arg = bytes | str | int | float
MAX_IN_FLIGHT = 10_000  # commands waiting for a reply, per connection
DEAD_AFTER = 3  # timeouts without a byte from Redis while a command waits: the connection is dead


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
    """The socket: writes commands as they come, hands replies to the waiting callers in order."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()  # (caller, sent at)
        self._expired = 0  # how many at the head of _waiting were already failed by their deadline
        self._buffer = bytearray()
        self._watchdog: asyncio.TimerHandle | None = None
        self._heard = 0.0  # loop time of the last bytes from Redis
        self._writable = asyncio.Event()
        self._writable.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._heard = asyncio.get_running_loop().time()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    async def wait_writable(self) -> None:
        """Wait while the socket's write buffer is over its high-water mark (Redis reads too slowly).

        ``resume_writing`` wakes every waiter at once; each looks again before it writes, because the
        one woken before it may have filled the buffer (and paused writing) already. Without the second
        look, 55 waiters wrote 53 MB into the buffer of a server that had read 10 MB."""
        if not self._writable.is_set():
            try:
                async with asyncio.timeout(self.timeout):
                    while not self._writable.is_set():
                        await self._writable.wait()
            except TimeoutError as exc:
                raise RedisTimeoutError(f"Redis read nothing for {self.timeout:g}s") from exc

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
        now = loop.time()
        self._waiting.append((future, now))
        self.transport.write(_encode(args))
        if self._watchdog is None:
            self._watchdog = loop.call_at(now + self.timeout, self._check_deadlines)
        return future

    @property
    def in_flight(self) -> int:
        return len(self._waiting)

    def data_received(self, data: bytes) -> None:
        self._heard = asyncio.get_running_loop().time()
        buffer = self._buffer
        buffer += data
        pos = 0
        while self._waiting:
            found = _parse(buffer, pos)
            if found is None:
                break
            reply, pos = found
            future, _ = self._waiting.popleft()
            self._expired = max(self._expired - 1, 0)
            if not future.done():  # a caller that timed out or gave up still had its reply in line
                future.set_result(reply)
        del buffer[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(RedisConnectionError(f"Redis connection lost: {exc or 'closed by the server'}"))

    def close(self) -> None:
        """Stop: commands still waiting fail, the socket closes once written out."""
        self._fail(RedisConnectionError("Redis connection closed"), abort=False)

    def _check_deadlines(self) -> None:
        """Fail each command whose own deadline has passed; give the connection up when Redis has
        been silent for DEAD_AFTER timeouts since the oldest waiting command was sent."""
        self._watchdog = None
        if not self._waiting:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        oldest_sent = self._waiting[0][1]
        if now - oldest_sent >= DEAD_AFTER * self.timeout and self._heard < oldest_sent:
            self._fail(
                RedisTimeoutError(f"no reply from Redis for {now - oldest_sent:.1f}s: connection dropped")
            )
            return
        while self._expired < len(self._waiting) and self._waiting[self._expired][1] + self.timeout <= now:
            future = self._waiting[self._expired][0]
            if not future.done():
                future.set_exception(RedisTimeoutError(f"no reply from Redis within {self.timeout:g}s"))
            self._expired += 1
        next_deadline = oldest_sent + DEAD_AFTER * self.timeout
        if self._expired < len(self._waiting):
            next_deadline = min(next_deadline, self._waiting[self._expired][1] + self.timeout)
        self._watchdog = loop.call_at(next_deadline, self._check_deadlines)

    def _fail(self, error: Exception, *, abort: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        self._writable.set()  # nobody may wait for a socket that is gone
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
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 2.0) -> PipelinedRedis:
        return cls(RedisAddress.parse(url), timeout=timeout)

    @property
    def connected(self) -> bool:
        return self._connection is not None and not self._connection.closed

    @property
    def in_flight(self) -> int:
        """Commands sent and not answered yet (the store's Redis traffic right now)."""
        return self._connection.in_flight if self._connection is not None else 0

    async def execute(self, *args: Arg) -> Any:
        """Send one command and return its reply (bytes, int, list, None)."""
        async with self._slots:
            return await self._execute(args)

    async def _execute(self, args: tuple[Arg, ...]) -> Any:
        connection = self._connection
        if connection is None or connection.closed:
            connection = await self._connect()
        await connection.wait_writable()
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
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        if connection is not None:
            connection.close()
