"""The primitives every Redis-layer feature is built on, for Redis and for the in-memory stand-in.

Each operation that must be atomic across workers is one round trip on Redis (a command or a Lua
script); the memory backend does the same under one asyncio lock, so in a single process both
behave the same.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from kami.store.pipelined import Arg, PipelinedRedis, Script

__all__ = ["Backend", "Index", "MemoryBackend", "RedisBackend", "WindowResult"]


@dataclass(frozen=True)
class WindowResult:
    allowed: bool
    remaining: int
    reset_after: float  # seconds until the oldest counted request leaves the window
    retry_after: float  # seconds until one more request would be allowed (0 when allowed)


@dataclass(frozen=True)
class Index:
    """Sets a stored value is registered in (a cache's tags), so one purge can find it."""

    sets: list[str]
    member: str
    ttl: float


class Backend(Protocol):
    async def ping(self) -> None: ...
    async def get(self, key: str) -> bytes | None: ...
    async def set(
        self, key: str, value: bytes, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool: ...
    async def delete(self, *keys: str) -> int: ...
    async def delete_if_value(self, key: str, expected: bytes) -> bool: ...
    async def hit_window(self, key: str, limit: int, window: float) -> WindowResult: ...
    async def get_many(self, keys: list[str]) -> list[bytes | None]: ...
    async def members(self, key: str) -> list[str]:
        """The members of an index set (written by ``set_if_unchanged``)."""
        ...

    async def remove_members(self, key: str, *members: str) -> None:
        """Take ``members`` out of an index set."""
        ...

    async def set_if_unchanged(
        self, key: str, value: bytes, ttl: float, guards: dict[str, bytes | None], index: Index | None = None
    ) -> bool:
        """Store ``value`` only if every guard key still holds its expected value; in the same atomic
        step add ``index.member`` to each of ``index.sets``."""
        ...

    async def bump_and_purge(
        self, versions: list[str], version_ttl: float, keys: list[str], sets: list[str], member_prefix: str
    ) -> None:
        """Atomically: increment every version key, delete ``keys``, and for each set delete every
        ``member_prefix + member`` and the set itself."""
        ...

    async def close(self) -> None: ...


_SLIDING_WINDOW = """
local key, limit, window_us = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window_us)
local count = redis.call('ZCARD', key)
local allowed = 0
if count < limit then
  redis.call('ZADD', key, now, now .. ':' .. ARGV[3])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', key, math.ceil(window_us / 1000))
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local reset_us = 0
if oldest[2] then reset_us = tonumber(oldest[2]) + window_us - now end
return {allowed, limit - count, reset_us}
"""

# KEYS: value, guards..., index sets...  ARGV: value, ttl ms, guard count, expected..., member, set ttl ms
_SET_IF_UNCHANGED = """
local guards = tonumber(ARGV[3])
for i = 1, guards do
  local current = redis.call('GET', KEYS[i + 1])
  if (current or '') ~= ARGV[i + 3] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = guards + 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[guards + 4])
  redis.call('PEXPIRE', KEYS[i], ARGV[guards + 5])
end
return 1
"""

# KEYS: versions..., keys..., sets...  ARGV: version count, key count, version ttl ms, member prefix
_BUMP_AND_PURGE = """
local versions, plain = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 1, versions do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
end
for i = versions + 1, versions + plain do redis.call('UNLINK', KEYS[i]) end
for i = versions + plain + 1, #KEYS do
  for _, member in ipairs(redis.call('SMEMBERS', KEYS[i])) do redis.call('UNLINK', ARGV[4] .. member) end
  redis.call('UNLINK', KEYS[i])
end
return 1
"""

_DELETE_IF_VALUE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisBackend:
    """The operations on Redis, over the process's one pipelined connection (``PipelinedRedis``)."""

    _window = Script(_SLIDING_WINDOW)
    _delete_if_value = Script(_DELETE_IF_VALUE)
    _set_if_unchanged = Script(_SET_IF_UNCHANGED)
    _bump_and_purge = Script(_BUMP_AND_PURGE)

    def __init__(self, redis: PipelinedRedis) -> None:
        self.redis = redis

    async def ping(self) -> None:
        await self.redis.execute("PING")

    async def get(self, key: str) -> bytes | None:
        value: bytes | None = await self.redis.execute("GET", key)
        return value

    async def set(
        self, key: str, value: bytes, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool:
        command: list[Arg] = ["SET", key, value]
        if ttl:
            command += ["PX", max(int(ttl * 1000), 1)]
        if only_if_absent:
            command.append("NX")
        return await self.redis.execute(*command) is not None

    async def delete(self, *keys: str) -> int:
        return int(await self.redis.execute("UNLINK", *keys)) if keys else 0

    async def delete_if_value(self, key: str, expected: bytes) -> bool:
        return bool(await self.redis.run_script(self._delete_if_value, [key], [expected]))

    async def hit_window(self, key: str, limit: int, window: float) -> WindowResult:
        allowed, remaining, reset_us = await self.redis.run_script(
            self._window, [key], [limit, int(window * 1_000_000), secrets.token_hex(4)]
        )
        reset = max(int(reset_us), 0) / 1_000_000
        return WindowResult(bool(allowed), max(int(remaining), 0), reset, 0.0 if allowed else reset)

    async def get_many(self, keys: list[str]) -> list[bytes | None]:
        found: list[bytes | None] = await self.redis.execute("MGET", *keys)
        return found

    async def members(self, key: str) -> list[str]:
        return sorted(member.decode() for member in await self.redis.execute("SMEMBERS", key))

    async def remove_members(self, key: str, *members: str) -> None:
        if members:
            await self.redis.execute("SREM", key, *members)

    async def set_if_unchanged(
        self, key: str, value: bytes, ttl: float, guards: dict[str, bytes | None], index: Index | None = None
    ) -> bool:
        names = list(guards)
        index = index or Index([], "", 0)
        args: list[Arg] = [value, int(ttl * 1000), len(names), *[guards[n] or b"" for n in names]]
        args += [index.member, int(index.ttl * 1000)]
        return bool(await self.redis.run_script(self._set_if_unchanged, [key, *names, *index.sets], args))

    async def bump_and_purge(
        self, versions: list[str], version_ttl: float, keys: list[str], sets: list[str], member_prefix: str
    ) -> None:
        args: list[Arg] = [len(versions), len(keys), int(version_ttl * 1000), member_prefix]
        await self.redis.run_script(self._bump_and_purge, [*versions, *keys, *sets], args)

    async def close(self) -> None:
        await self.redis.close()


class MemoryBackend:
    """The embedded default: the same operations in this process's memory (one process only)."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[object, float | None]] = {}
        self._lock = asyncio.Lock()

    def _live(self, key: str) -> object | None:
        found = self._values.get(key)
        if found is None:
            return None
        value, expires = found
        if expires is not None and expires <= time.monotonic():
            del self._values[key]
            return None
        return value

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        return time.monotonic() + ttl if ttl else None

    async def ping(self) -> None:
        return None

    async def get(self, key: str) -> bytes | None:
        value = self._live(key)
        return value if isinstance(value, bytes) else None

    async def set(
        self, key: str, value: bytes, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool:
        async with self._lock:
            if only_if_absent and self._live(key) is not None:
                return False
            self._values[key] = (value, self._expiry(ttl))
            return True

    async def delete(self, *keys: str) -> int:
        async with self._lock:
            live = [key for key in keys if self._live(key) is not None]
            for key in live:
                del self._values[key]
            return len(live)

    async def delete_if_value(self, key: str, expected: bytes) -> bool:
        async with self._lock:
            if self._live(key) == expected:
                del self._values[key]
                return True
            return False

    async def hit_window(self, key: str, limit: int, window: float) -> WindowResult:
        async with self._lock:
            now = time.monotonic()
            current = self._live(key)
            hits: deque[float] = current if isinstance(current, deque) else deque()
            while hits and hits[0] <= now - window:
                hits.popleft()
            allowed = len(hits) < limit
            if allowed:
                hits.append(now)
            self._values[key] = (hits, now + window)
            reset = hits[0] + window - now if hits else 0.0
            return WindowResult(allowed, limit - len(hits), reset, 0.0 if allowed else reset)

    async def get_many(self, keys: list[str]) -> list[bytes | None]:
        return [await self.get(key) for key in keys]

    async def members(self, key: str) -> list[str]:
        found = self._live(key)
        return sorted(found) if isinstance(found, set) else []

    async def remove_members(self, key: str, *members: str) -> None:
        async with self._lock:
            found = self._live(key)
            if isinstance(found, set):
                found.difference_update(members)

    async def set_if_unchanged(
        self, key: str, value: bytes, ttl: float, guards: dict[str, bytes | None], index: Index | None = None
    ) -> bool:
        async with self._lock:
            if any((self._live(name) or b"") != (expected or b"") for name, expected in guards.items()):
                return False
            self._values[key] = (value, self._expiry(ttl))
            for name in index.sets if index else ():
                current = self._live(name)
                members = current if isinstance(current, set) else set()
                self._values[name] = (members | {index.member}, self._expiry(index.ttl))  # type: ignore[union-attr]
            return True

    async def bump_and_purge(
        self, versions: list[str], version_ttl: float, keys: list[str], sets: list[str], member_prefix: str
    ) -> None:
        async with self._lock:
            for name in versions:
                current = self._live(name)
                value = int(current) + 1 if isinstance(current, bytes) else 1
                self._values[name] = (str(value).encode(), self._expiry(version_ttl))
            doomed = list(keys)
            for name in sets:
                current = self._live(name)
                doomed += [member_prefix + m for m in (current if isinstance(current, set) else ())]
                doomed.append(name)
            for name in doomed:
                self._values.pop(name, None)

    async def close(self) -> None:
        self._values.clear()
