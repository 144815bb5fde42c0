"""Login sessions, kept in the shared store: what every access and refresh token belongs to.

A session holds the account's current role, tier and permissions, so each authenticated request costs
one store read (``GET kami:session:{sid}``) and no database query, and still sees a role change, a
deactivation or a logout at once: the identity slice rewrites or deletes the sessions when the account
changes. A session lives as long as a refresh token (each refresh extends it), never past its absolute
lifetime from the login; a lost store logs everybody out — it fails closed, never open. Writes are
conditional on the record read (``set_if_unchanged``), so touching a session can never bring back one
revoked meanwhile.
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
    authenticated_at: float = 0.0  # when the password was last given (the login, or a confirmation)
    refresh_jti: str = ""  # the one refresh token that may be used next
    previous_jti: str = ""  # the one it replaced, at ``rotated_at``: still answered within the grace
    rotated_at: float = 0.0

    def identity(self, reauthenticate_after: float) -> Identity:
        """The caller this session is; ``fresh`` while the password was given less than
        ``reauthenticate_after`` seconds ago."""
        fresh = time.time() - self.authenticated_at < reauthenticate_after
        return Identity(
            self.user_id, self.role, self.tier, frozenset(self.permissions), session_id=self.id, fresh=fresh
        )


class LoginSessions:
    """The sessions of every account, on the shared backend (Redis, or this process's memory)."""

    def __init__(self, backend: Backend, lifetime: float, max_lifetime: float | None = None) -> None:
        self.backend = backend
        self.lifetime = lifetime  # the refresh token's: a session outlives its last refresh by this
        self.max_lifetime = max_lifetime or lifetime  # from the login, whatever the refreshes

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
            expires_at=now + min(self.lifetime, self.max_lifetime),
            address=address,
            user_agent=user_agent[:256],
            authenticated_at=now,
            refresh_jti=secrets.token_hex(16),
            rotated_at=now,
        )
        index = Index([self._index(account.user_id)], record.id, self.lifetime)
        await self.backend.set_if_unchanged(self._key(record.id), _encode(record), self.lifetime, {}, index)
        return record

    async def find(self, session_id: str) -> SessionRecord | None:
        raw = await self.backend.get(self._key(session_id))
        return None if raw is None else _decode(raw)

    async def touch(self, record: SessionRecord) -> SessionRecord | None:
        """Mark ``record`` used now (at most once a minute). None when it was revoked meanwhile."""
        now = time.time()
        if now - record.last_used_at < TOUCH_EVERY:
            return record
        return await self._replace(record, msgspec.structs.replace(record, last_used_at=now))

    async def rotate(self, record: SessionRecord) -> SessionRecord | None:
        """A refresh: the next refresh token replaces the current one, and the session lives
        ``lifetime`` from now, never past its absolute lifetime from the login. None when another
        refresh or a revocation changed the record first."""
        now = time.time()
        ceiling = record.created_at + self.max_lifetime
        if now >= ceiling:
            return None
        return await self._replace(
            record,
            msgspec.structs.replace(
                record,
                refresh_jti=secrets.token_hex(16),
                previous_jti=record.refresh_jti,
                rotated_at=now,
                last_used_at=now,
                expires_at=min(now + self.lifetime, ceiling),
            ),
        )

    async def reauthenticated(self, record: SessionRecord) -> SessionRecord | None:
        """The password was given again in this session: it is fresh from now (None when it was revoked
        meanwhile)."""
        return await self._replace(record, msgspec.structs.replace(record, authenticated_at=time.time()))

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
