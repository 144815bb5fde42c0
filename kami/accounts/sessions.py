"""Login sessions, kept in the shared store: what every access and refresh token belongs to.

A session holds the account's current role, tier and permissions, so each authenticated request costs
one store read (``GET kami:session:{sid}``) and no database query, and still sees a role change, a
deactivation or a logout at once: the accounts app rewrites or deletes the sessions when the account
changes. LoginSessions live as long as a refresh token (each refresh extends them); a lost store logs
everybody out — it fails closed, never open. Writes are conditional on the record read (``set_if_unchanged``),
so touching a session can never bring back one revoked meanwhile.
"""

from __future__ import annotations

import secrets
import time

import msgspec

from kami.security.identity import Identity
from kami.store.backend import Backend, Index

__all__ = ["LoginSessions", "SessionRecord"]

_NAMESPACE = "kami"
TOUCH_EVERY = 60.0  # seconds: how stale "last used" may be (one extra write per session per minute)


class SessionRecord(msgspec.Struct, frozen=True):
    """One login: who (as of the account's last change), since when, from where."""

    id: str
    user_id: str
    role: str
    tier: str
    permissions: tuple[str, ...]  # sorted: a record encodes to the same bytes in every process
    created_at: float  # Unix time
    last_used_at: float
    expires_at: float
    address: str
    user_agent: str

    def identity(self) -> Identity:
        return Identity(self.user_id, self.role, self.tier, frozenset(self.permissions), session_id=self.id)


class LoginSessions:
    """The sessions of every account, on the shared backend (Redis, or this process's memory)."""

    def __init__(self, backend: Backend, lifetime: float) -> None:
        self.backend = backend
        self.lifetime = lifetime  # the refresh token's: a session outlives its last refresh by this

    @staticmethod
    def _key(session_id: str) -> str:
        return f"{_NAMESPACE}:session:{session_id}"

    @staticmethod
    def _index(user_id: str) -> str:
        return f"{_NAMESPACE}:account-sessions:{user_id}"

    async def open(self, account: Identity, address: str, user_agent: str) -> SessionRecord:
        now = time.time()
        record = SessionRecord(
            id=secrets.token_urlsafe(16),
            user_id=account.user_id,
            role=account.role,
            tier=account.tier,
            permissions=tuple(sorted(account.permissions)),
            created_at=now,
            last_used_at=now,
            expires_at=now + self.lifetime,
            address=address,
            user_agent=user_agent[:256],
        )
        index = Index([self._index(account.user_id)], record.id, self.lifetime)
        await self.backend.set_if_unchanged(self._key(record.id), _encode(record), self.lifetime, {}, index)
        return record

    async def find(self, session_id: str) -> SessionRecord | None:
        raw = await self.backend.get(self._key(session_id))
        return None if raw is None else _decode(raw)

    async def touch(self, record: SessionRecord, *, extend: bool = False) -> SessionRecord | None:
        """Mark ``record`` used now (at most once a minute unless ``extend``, which a refresh does: the
        session then lives ``lifetime`` from now). None when it was revoked meanwhile."""
        now = time.time()
        if not extend and now - record.last_used_at < TOUCH_EVERY:
            return record
        expires_at = now + self.lifetime if extend else record.expires_at
        return await self._replace(
            record, msgspec.structs.replace(record, last_used_at=now, expires_at=expires_at)
        )

    async def of_account(self, user_id: str) -> list[SessionRecord]:
        """The account's live sessions, newest first (ended ones are dropped from the index)."""
        ids = await self.backend.members(self._index(user_id))
        found = await self.backend.get_many([self._key(i) for i in ids]) if ids else []
        ended = [i for i, raw in zip(ids, found, strict=True) if raw is None]
        await self.backend.remove_members(self._index(user_id), *ended)
        live = [_decode(raw) for raw in found if raw is not None]
        return sorted(live, key=lambda r: r.created_at, reverse=True)

    async def revoke(self, user_id: str, session_id: str) -> bool:
        """End one of the account's sessions; False when it has no such live session."""
        record = await self.find(session_id)
        if record is None or record.user_id != user_id:
            return False
        await self._end(user_id, [session_id])
        return True

    async def revoke_all(self, user_id: str, *, keep: str | None = None) -> int:
        """End every session of the account (but ``keep``); how many ended."""
        ended = [r.id for r in await self.of_account(user_id) if r.id != keep]
        if ended:
            await self._end(user_id, ended)
        return len(ended)

    async def _end(self, user_id: str, session_ids: list[str]) -> None:
        await self.backend.delete(*[self._key(i) for i in session_ids])
        await self.backend.remove_members(self._index(user_id), *session_ids)

    async def update_account(self, account: Identity) -> None:
        """Carry the account's new role, tier and permissions into each of its live sessions."""
        for record in await self.of_account(account.user_id):
            for _ in range(5):  # a concurrent touch changed it: read again and retry
                changed = msgspec.structs.replace(
                    record,
                    role=account.role,
                    tier=account.tier,
                    permissions=tuple(sorted(account.permissions)),
                )
                if await self._replace(record, changed) is not None:
                    break
                found = await self.find(record.id)
                if found is None:
                    break
                record = found

    async def _replace(self, old: SessionRecord, new: SessionRecord) -> SessionRecord | None:
        """Write ``new`` only if the store still holds ``old``; the index lives as long as its newest."""
        key, ttl = self._key(old.id), max(new.expires_at - time.time(), 1.0)
        index = Index([self._index(old.user_id)], old.id, ttl) if new.expires_at > old.expires_at else None
        written = await self.backend.set_if_unchanged(key, _encode(new), ttl, {key: _encode(old)}, index)
        return new if written else None


def _encode(record: SessionRecord) -> bytes:
    return msgspec.msgpack.encode(record)


def _decode(raw: bytes) -> SessionRecord:
    return msgspec.msgpack.decode(raw, type=SessionRecord)
