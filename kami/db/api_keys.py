"""API keys for service clients, in the database: a key outlives any store outage or flush.

A key reads ``kami_<id>_<secret>``: the prefix makes a leaked key recognisable (secret scanners, logs),
the id names it in lists, logs and traces, and only the SHA-256 of the secret is stored (the secret is
32 random bytes, so a fast hash is enough: there is nothing to guess). The secret is shown once, when
the key is made.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

import msgspec
from sqlalchemy import JSON, ColumnElement, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kami.db.models import Model
from kami.db.types import PreciseDateTimeUTC

__all__ = [
    "KEY_PREFIX",
    "ApiKey",
    "ApiKeyInfo",
    "find_key",
    "keys_of",
    "new_key",
    "revoke_key",
    "secret_matches",
]

KEY_PREFIX = "kami_"


class _Base(DeclarativeBase):
    metadata = Model.metadata  # the one metadata every migration compares against


class ApiKey(_Base):
    __tablename__ = "kami_api_key"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public: the key's name in logs
    user_id: Mapped[str] = mapped_column(String(64), index=True)  # the account it acts for
    name: Mapped[str] = mapped_column(String(100))
    permissions: Mapped[list[str]] = mapped_column(JSON)
    tier: Mapped[str] = mapped_column(String(20))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(PreciseDateTimeUTC(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(PreciseDateTimeUTC(timezone=True), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(PreciseDateTimeUTC(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(PreciseDateTimeUTC(timezone=True), nullable=True)


class ApiKeyInfo(msgspec.Struct, frozen=True):
    """A key as its owner sees it: never its secret."""

    id: str
    name: str
    permissions: list[str]
    tier: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyInfo:
        return cls(
            key.id,
            key.name,
            list(key.permissions),
            key.tier,
            key.created_at,
            key.expires_at,
            key.last_used_at,
        )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(key: ApiKey | str, secret: str) -> bool:
    expected = key if isinstance(key, str) else key.secret_hash
    return hmac.compare_digest(expected, _hash(secret))


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


async def find_key(session: AsyncSession, key_id: str) -> ApiKey | None:
    """A live key (not revoked) by its id; expiry is the caller's to check."""
    found = await session.execute(select(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)))
    return found.scalar_one_or_none()


async def keys_of(session: AsyncSession, user_id: str) -> list[ApiKey]:
    found = await session.execute(
        select(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.created_at.desc())
    )
    return list(found.scalars())


async def revoke_key(session: AsyncSession, key_id: str, user_id: str | None = None) -> list[str]:
    """Revoke ``key_id`` (only if ``user_id`` owns it, when given), or with ``key_id`` empty every key of
    ``user_id``; the ids revoked."""
    where: list[ColumnElement[bool]] = [ApiKey.revoked_at.is_(None)]
    if key_id:
        where.append(ApiKey.id == key_id)
    if user_id is not None:
        where.append(ApiKey.user_id == user_id)
    ids = list((await session.execute(select(ApiKey.id).where(*where))).scalars())
    if ids:
        await session.execute(update(ApiKey).where(ApiKey.id.in_(ids)).values(revoked_at=datetime.now(UTC)))
    return ids
