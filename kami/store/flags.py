"""Feature flags in the shared store, changeable at runtime without a restart.

A flag is on or off globally, may be overridden per app, and may be rolled out to a percentage of
callers (the same caller always gets the same answer: the bucket is a hash of flag and caller).
Stored as ``flags:{name}``; read by handlers (``flags`` dependency), the guard
``kami.security.require_flag`` and the ``kami flags`` command.
"""

from __future__ import annotations

import hashlib

import msgspec

from kami.store.backend import Backend

__all__ = ["FeatureFlags", "Flag"]

PREFIX = "flags:"


class Flag(msgspec.Struct, omit_defaults=True):
    enabled: bool = False
    apps: dict[str, bool] = msgspec.field(default_factory=dict)
    percentage: int | None = None  # 0-100: share of callers who get it when enabled

    def allows(self, name: str, app: str | None, caller: str | None) -> bool:
        on = self.apps[app] if app is not None and app in self.apps else self.enabled
        if not on or self.percentage is None:
            return on
        if caller is None:
            return False
        bucket = int.from_bytes(hashlib.sha256(f"{name}:{caller}".encode()).digest()[:4], "big") % 100
        return bucket < self.percentage


class FeatureFlags:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def get(self, name: str) -> Flag | None:
        raw = await self.backend.get(PREFIX + name)
        return msgspec.json.decode(raw, type=Flag) if raw else None

    async def set(self, name: str, flag: Flag) -> None:
        await self.backend.set(PREFIX + name, msgspec.json.encode(flag))

    async def delete(self, name: str) -> bool:
        return bool(await self.backend.delete(PREFIX + name))

    async def is_enabled(self, name: str, *, app: str | None = None, caller: str | None = None) -> bool:
        """Off when the flag does not exist."""
        flag = await self.get(name)
        return flag is not None and flag.allows(name, app, caller)
