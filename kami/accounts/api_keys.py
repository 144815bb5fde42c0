"""API keys for service clients: kept in the database, checked through a one-minute copy in the store.

A key reads ``kami_<id>_<secret>``: the prefix makes a leaked key recognisable (secret scanners, logs),
the id names it in lists, logs and traces, and only the SHA-256 of the secret is stored (the secret is
32 random bytes, so a fast hash is enough: there is nothing to guess). The secret is shown once.

A request with a key costs one store read while the copy is there, one database read (through the
one session factory) when it is not — an unknown key too is remembered for a minute, so guessing costs
no database read per request. A revoked key's copy is deleted with the revocation (before and after
its commit), so every worker refuses it at once; so are the copies of an account's keys whenever the
account or its role changes. When the store is down, keys are read from the database: a service client
does not depend on Redis.

A key is never more than its maker now: it acts with the permissions it was given that its account
still holds, at its account's current tier, and only while the account is active (its rate-limit
window is the key's own). It is named by its id in logs, traces and the audit trail.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from uuid import UUID

import msgspec
import structlog
from redis.exceptions import RedisError
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kami.accounts.models import ACTIVE, Account, ApiKey
from kami.accounts.role_service import permissions_of_role
from kami.codes import Codes
from kami.db.transaction import transaction
from kami.errors import AuthenticationError
from kami.security.identity import Identity
from kami.security.permissions import EVERYTHING, PermissionCatalog
from kami.store.backend import Backend

__all__ = [
    "API_KEY_HEADER",
    "API_KEY_ROLE",
    "KEY_PREFIX",
    "ApiKeys",
    "SessionFactory",
    "keys_of",
    "new_key",
    "revoke_keys",
]

KEY_PREFIX = "kami_"
API_KEY_HEADER = "x-api-key"
API_KEY_ROLE = "api-key"  # the role an API key's identity carries: its permissions are its own
_COPY_SECONDS = 60.0
_TOUCH_EVERY = 60.0

log = structlog.get_logger("kami.accounts.api_keys")

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def new_key(
    session: AsyncSession,
    user_id: str,
    name: str,
    permissions: list[str],
    tier: str,
    expires_at: datetime | None,
) -> tuple[ApiKey, str]:
    """Add a key (in the session's transaction); the key and the full text to hand over once."""
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    key = ApiKey(
        id=key_id,
        user_id=user_id,
        name=name,
        permissions=sorted(set(permissions)),
        tier=tier,
        secret_hash=_hash(secret),
        created_at=datetime.now(UTC),
        expires_at=expires_at,
    )
    session.add(key)
    await session.flush()
    return key, f"{KEY_PREFIX}{key_id}_{secret}"


async def keys_of(session: AsyncSession, user_id: str) -> list[ApiKey]:
    found = await session.execute(
        select(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.created_at.desc())
    )
    return list(found.scalars())


async def revoke_keys(session: AsyncSession, user_id: str | None, key_id: str = "") -> list[str]:
    """Revoke ``key_id`` (only if ``user_id`` owns it, when given), or with ``key_id`` empty every key of
    ``user_id``; the ids revoked (in the session's transaction)."""
    if not key_id and user_id is None:
        raise ValueError("revoke_keys needs a key or an account")
    where: list[ColumnElement[bool]] = [ApiKey.revoked_at.is_(None)]
    if key_id:
        where.append(ApiKey.id == key_id)
    if user_id is not None:
        where.append(ApiKey.user_id == user_id)
    ids = list((await session.execute(select(ApiKey.id).where(*where))).scalars())
    if ids:
        await session.execute(update(ApiKey).where(ApiKey.id.in_(ids)).values(revoked_at=datetime.now(UTC)))
    return ids


class _Copy(msgspec.Struct, frozen=True):
    """What a request with the key needs: its effective permissions and tier, as of the copy."""

    user_id: str
    permissions: tuple[str, ...]
    tier: str
    secret_hash: str
    expires_at: float | None
    last_used_at: float | None


_UNKNOWN = b""  # the copy of a key that does not exist (or no longer acts): remembered like the others


class ApiKeys:
    """Checking keys on requests, and forgetting the copies of revoked or changed ones."""

    def __init__(self, backend: Backend, sessions: SessionFactory, catalog: PermissionCatalog) -> None:
        self.backend = backend
        self.sessions = sessions
        self.catalog = catalog

    @staticmethod
    def _copy_key(key_id: str) -> str:
        return f"kami:api-key:{key_id}"

    async def authenticate(self, presented: str) -> Identity:
        """The identity a key acts as; 401 for anything not a live key (1002 once it has expired)."""
        key_id, _, secret = presented.removeprefix(KEY_PREFIX).partition("_")
        if not presented.startswith(KEY_PREFIX) or not key_id or not secret:
            raise AuthenticationError(f"An API key reads {KEY_PREFIX}<id>_<secret>")
        copy = await self._copy(key_id)
        if copy is None or not hmac.compare_digest(copy.secret_hash, _hash(secret)):
            raise AuthenticationError("Unknown or revoked API key")
        if copy.expires_at is not None and copy.expires_at <= time.time():
            raise AuthenticationError("The API key has expired", code=Codes.TOKEN_EXPIRED)
        if copy.last_used_at is None or time.time() - copy.last_used_at >= _TOUCH_EVERY:
            await self._touch(key_id)
        return Identity(copy.user_id, API_KEY_ROLE, copy.tier, frozenset(copy.permissions), api_key=key_id)

    async def forget(self, *key_ids: str) -> None:
        """Drop the copies of revoked keys (a failure here is raised: the revocation must not pass
        while a copy could still let the key in)."""
        if key_ids:
            await self.backend.delete(*(self._copy_key(k) for k in key_ids))

    async def forget_account(self, session: AsyncSession, user_id: str) -> None:
        """Drop the copies of every key of the account: its role, tier or status changed, and each key
        is read again with what the account holds now."""
        await self.forget(*(key.id for key in await keys_of(session, user_id)))

    async def _copy(self, key_id: str) -> _Copy | None:
        try:
            raw = await self.backend.get(self._copy_key(key_id))
        except (RedisError, OSError) as exc:
            log.warning("api key copies unavailable: reading the database", error=type(exc).__name__)
            return await self._read(key_id, keep=False)
        if raw == _UNKNOWN:
            return None
        if raw is not None:
            return msgspec.msgpack.decode(raw, type=_Copy)
        return await self._read(key_id, keep=True)

    async def _read(self, key_id: str, keep: bool) -> _Copy | None:
        """The key and its account, in one statement: the key's permissions its account still holds,
        the account's tier; nothing for a revoked key or an account that is not active."""
        async with self.sessions() as session:
            live = select(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
            key = (await session.execute(live)).scalar_one_or_none()
            account = await session.get(Account, UUID(key.user_id)) if key is not None else None
            if account is not None and account.status == ACTIVE:
                held = await permissions_of_role(session, self.catalog, account.role)
        copy = None
        if key is not None and account is not None and account.status == ACTIVE:
            tier = account.tier
            granted = {name for name in key.permissions if EVERYTHING in held or name in held}
            copy = _Copy(
                key.user_id,
                tuple(sorted(granted)),
                tier,
                key.secret_hash,
                key.expires_at.timestamp() if key.expires_at else None,
                key.last_used_at.timestamp() if key.last_used_at else None,
            )
        if keep:
            stored = msgspec.msgpack.encode(copy) if copy is not None else _UNKNOWN
            await self.backend.set(self._copy_key(key_id), stored, ttl=_COPY_SECONDS)
        return copy

    async def _touch(self, key_id: str) -> None:
        """Record the use (at most once a minute per key), and let the next request re-read the copy."""
        async with self.sessions() as session, transaction(session):
            now = datetime.now(UTC)
            await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
        with contextlib.suppress(RedisError, OSError):  # the copy expires within a minute anyway
            await self.backend.delete(self._copy_key(key_id))
