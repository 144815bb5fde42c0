"""Idempotency records: a key's answer, stored in the same transaction as the work it answers.

A request with an ``Idempotency-Key`` on an idempotent route first *claims* its key inside the
request's transaction, then runs, then stores its answer in the claimed row, and commits everything at
once. So the record exists exactly when the work does: a worker killed after COMMIT leaves a record the
retry replays; killed before, it leaves nothing, and the retry runs for the first time. Nothing depends
on Redis keeping data.

Claiming tells a retry whose first attempt is still running (its transaction is open) apart at once,
without waiting, and the database releases a claim the moment its transaction ends — also when the
process died — so a key is never locked out:

- MySQL/MariaDB: the claim is the row's INSERT with a lock wait of 0 (another open transaction that
  inserted the key answers "lock wait timeout" at once; a committed row answers "duplicate").
- PostgreSQL: a transaction-scoped advisory lock on the key (``pg_try_advisory_xact_lock``).
- SQLite (the embedded default, one process): a set of the keys this process is running.
"""

from __future__ import annotations

import enum
import hashlib
import time
from dataclasses import dataclass

from sqlalchemy import BigInteger, Integer, LargeBinary, String, delete, select, text, update
from sqlalchemy.dialects.mysql import MEDIUMBLOB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kami.db.errors import DatabaseFailure, classify
from kami.db.models import Model

__all__ = ["Claim", "IdempotencyRecord", "RecordKey", "claim", "complete", "purge_expired", "release"]

ANSWER_TYPE = LargeBinary().with_variant(MEDIUMBLOB(), "mysql", "mariadb")  # up to 16 MiB on MySQL


class _Base(DeclarativeBase):
    metadata = Model.metadata  # the one metadata every migration compares against


class IdempotencyRecord(_Base):
    """One key's claim (``status == 0`` while its transaction is open, never seen committed) or
    answer: the HTTP status and the envelope's ``code``, ``message`` and ``data`` as JSON."""

    __tablename__ = "kami_idempotency_record"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    app: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer, default=0)
    answer: Mapped[bytes | None] = mapped_column(ANSWER_TYPE, nullable=True, default=None)
    created_at: Mapped[int] = mapped_column(BigInteger)  # unix seconds
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


@dataclass(frozen=True)
class RecordKey:
    """Whose key it is (app and caller) and what was asked (method, path and body)."""

    app: str
    caller: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, app: str, caller: str, key: str, method: str, path: str, body: bytes) -> RecordKey:
        asked = hashlib.sha256(method.encode() + b" " + path.encode() + b"\0" + body).hexdigest()
        return cls(app, caller, key, asked)

    @property
    def hash(self) -> str:
        return hashlib.sha256(f"{self.app}\0{self.caller}\0{self.key}".encode()).hexdigest()


class Claim(enum.Enum):
    OWNED = "owned"  # this request runs; its answer goes into the claimed row
    IN_FLIGHT = "in flight"  # another request with this key is running right now
    ANSWERED = "answered"  # a committed answer exists (see the returned record)


_running: set[str] = set()  # SQLite: the keys this process is running (one process: the embedded default)


async def claim(
    session: AsyncSession, record: RecordKey, ttl: float
) -> tuple[Claim, IdempotencyRecord | None]:
    """Claim ``record`` inside the session's open transaction. An answer past its expiry is removed
    and the key claimed afresh. Call :func:`release` when the transaction has ended."""
    now = int(time.time())
    dialect = session.get_bind().dialect
    key_hash = record.hash
    if dialect.name == "postgresql":
        lock = int.from_bytes(bytes.fromhex(key_hash[:16]), "big", signed=True)
        locked = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:lock)"), {"lock": lock})
        if not locked:
            return Claim.IN_FLIGHT, None
    elif dialect.name == "sqlite":
        if key_hash in _running:
            return Claim.IN_FLIGHT, None
        _running.add(key_hash)
    if dialect.name != "mysql":
        found = await session.get(IdempotencyRecord, key_hash, populate_existing=True)
        if found is not None and found.expires_at > now:
            return Claim.ANSWERED, found
        if found is not None:
            await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.key_hash == key_hash))
        await _insert(session, record, now, ttl)
        return Claim.OWNED, None
    for _ in (1, 2):  # MySQL: the INSERT is the claim (a refused INSERT rolls back only itself)
        try:
            await _insert(session, record, now, ttl, wait=False)
            return Claim.OWNED, None
        except Exception as exc:
            failure = classify(exc)
            if failure is DatabaseFailure.LOCK_CONFLICT:
                return Claim.IN_FLIGHT, None
            if failure is not DatabaseFailure.DUPLICATE:
                raise
        found = await session.get(IdempotencyRecord, key_hash, populate_existing=True)
        if found is not None and found.expires_at > now:
            return Claim.ANSWERED, found
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.key_hash == key_hash, IdempotencyRecord.expires_at <= now
            )
        )
    return Claim.IN_FLIGHT, None  # expired and reclaimed by someone else in between: they run it


async def _insert(
    session: AsyncSession, record: RecordKey, now: int, ttl: float, *, wait: bool = True
) -> None:
    values = {
        "key_hash": record.hash,
        "app": record.app,
        "fingerprint": record.fingerprint,
        "status": 0,
        "created_at": now,
        "expires_at": now + int(ttl),
    }
    columns = ", ".join(values)
    placeholders = ", ".join(f":{name}" for name in values)
    statement = f"INSERT INTO {IdempotencyRecord.__tablename__} ({columns}) VALUES ({placeholders})"
    if not wait:  # MySQL: another open transaction holding the key answers at once, not after 50 s
        dialect = session.get_bind().dialect
        if getattr(dialect, "is_mariadb", False):
            statement = "SET STATEMENT innodb_lock_wait_timeout=0 FOR " + statement
        else:
            statement = statement.replace("INSERT", "INSERT /*+ SET_VAR(innodb_lock_wait_timeout=1) */", 1)
    await session.execute(text(statement), values)


async def complete(session: AsyncSession, record: RecordKey, status: int, answer: bytes) -> None:
    """Store the answer in the claimed row (committed with the work by the caller's transaction)."""
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.key_hash == record.hash)
        .values(status=status, answer=answer)
        .execution_options(synchronize_session=False)
    )


def release(record: RecordKey) -> None:
    """The claim's transaction has ended (the database released MySQL's and PostgreSQL's with it)."""
    _running.discard(record.hash)


async def purge_expired(session: AsyncSession, *, batch: int = 1000) -> int:
    """Delete up to ``batch`` answers past their expiry; how many went."""
    now = int(time.time())
    keys = list(
        await session.scalars(
            select(IdempotencyRecord.key_hash).where(IdempotencyRecord.expires_at <= now).limit(batch)
        )
    )
    if keys:
        await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.key_hash.in_(keys)))
    return len(keys)
