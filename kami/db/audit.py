"""The audit trail: security events, append-only and chained by hash, in the database.

Each event is written in the transaction of the change it records (a role change and its event commit
together or not at all). Each record carries the SHA-256 of the previous record's hash and its own
content, and one head row holds the newest sequence number and hash: appending first increments the
head (``UPDATE``, which takes the write lock on every database, so appenders from any number of
workers and processes queue there), then links the record to the hash it found. Changing, removing
or inserting a record breaks the chain at that point, and dropping the newest ones no longer matches
the head: ``kami audit verify`` finds both. Retention (``KAMI_AUDIT_RETENTION_DAYS``) removes the
oldest records; the oldest kept record's link is then the chain's anchor.

What this does not stop: someone who can write the database can rewrite the whole chain and the head.
Record the head hash ``kami audit verify`` prints somewhere else to detect that too.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec
from sqlalchemy import BigInteger, Integer, String, Text, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kami.db.models import Model
from kami.db.pagination import PageParams
from kami.db.transaction import transaction
from kami.db.types import PreciseDateTimeUTC
from kami.envelope import Page

__all__ = [
    "GENESIS",
    "AuditContext",
    "AuditEvent",
    "AuditHead",
    "AuditRecord",
    "AuditTrail",
    "ChainReport",
    "purge_older_than",
    "read_events",
    "verify_chain",
]

GENESIS = "0" * 64  # the link of the first record ever written
_HEAD_ID = 1
_BATCH = 1000


class _Base(DeclarativeBase):
    metadata = Model.metadata  # the one metadata every migration compares against


class AuditEvent(_Base):
    __tablename__ = "kami_audit_event"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    occurred_at: Mapped[datetime] = mapped_column(PreciseDateTimeUTC(timezone=True), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)  # an account id, or "cli", "system"
    target: Mapped[str] = mapped_column(String(320), index=True)  # what it was done to
    address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(256))
    trace_id: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(_Base):
    """One row: the newest record's sequence number and hash (seeded by the migration), and the newest
    record retention removed (``purged_through``): every record after it must still be there."""

    __tablename__ = "kami_audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
    purged_through: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), default=0, server_default="0"
    )


_HEAD = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == _HEAD_ID)
_PURGED = select(AuditHead.purged_through).where(AuditHead.id == _HEAD_ID)
_HEAD_ROW = update(AuditHead).where(AuditHead.id == _HEAD_ID)


@dataclass(frozen=True)
class AuditContext:
    """Who and where: the caller's account (or ``cli``), the API key it acted with (its id), address,
    user agent and trace."""

    actor: str
    address: str = ""
    user_agent: str = ""
    trace_id: str = ""
    api_key: str = ""


def _canonical(value: dict[str, Any]) -> str:
    """One spelling of a JSON object (sorted keys, no spaces): what is hashed, and stored as ``detail``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(prev_hash: str, fields: dict[str, str]) -> str:
    canonical = _canonical(fields)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def _fields(event: AuditEvent) -> dict[str, str]:
    return {
        "seq": str(event.seq),
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "action": event.action,
        "actor": event.actor,
        "target": event.target,
        "address": event.address,
        "user_agent": event.user_agent,
        "trace_id": event.trace_id,
        "detail": event.detail,
    }


@dataclass
class AuditTrail:
    """Appends events on ``session`` (joining its open transaction, or in one of its own)."""

    session: AsyncSession
    context: AuditContext

    async def record(
        self, action: str, target: str, detail: dict[str, Any] | None = None, *, actor: str | None = None
    ) -> AuditEvent:
        """Append one event; ``actor`` overrides the context's (a login is done by its account)."""
        async with transaction(self.session):
            await self.session.execute(_HEAD_ROW.values(seq=AuditHead.seq + 1))
            head = (await self.session.execute(_HEAD)).one()
            event = AuditEvent(
                seq=head.seq,
                occurred_at=datetime.now(UTC),
                action=action,
                actor=actor or self.context.actor,
                target=target[:320],
                address=self.context.address[:64],
                user_agent=self.context.user_agent[:256],
                trace_id=self.context.trace_id,
                detail=_canonical(
                    {**(detail or {}), **({"api_key": self.context.api_key} if self.context.api_key else {})}
                ),
                prev_hash=head.hash,
            )
            event.hash = _digest(head.hash, _fields(event))
            self.session.add(event)
            await self.session.execute(_HEAD_ROW.values(hash=event.hash))
            await self.session.flush()
        return event


class AuditRecord(msgspec.Struct, frozen=True):
    """One event as admins read it."""

    seq: int
    occurred_at: datetime
    action: str
    actor: str
    target: str
    address: str
    user_agent: str
    trace_id: str
    detail: dict[str, Any]
    hash: str


async def read_events(
    session: AsyncSession,
    params: PageParams,
    *,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Page[AuditRecord]:
    """Newest first, filtered by exact action, actor and target and by day (UTC; both included)."""
    where = [
        condition
        for condition in (
            AuditEvent.action == action if action else None,
            AuditEvent.actor == actor if actor else None,
            AuditEvent.target == target if target else None,
            AuditEvent.occurred_at >= _midnight(since) if since else None,
            AuditEvent.occurred_at < _midnight(until) + timedelta(days=1) if until else None,
        )
        if condition is not None
    ]
    total = (await session.execute(select(func.count()).select_from(AuditEvent).where(*where))).scalar_one()
    rows = (
        await session.execute(
            select(AuditEvent)
            .where(*where)
            .order_by(AuditEvent.seq.desc())
            .limit(params.page_size)
            .offset((params.page - 1) * params.page_size)
        )
    ).scalars()
    items = [
        AuditRecord(
            seq=e.seq,
            occurred_at=e.occurred_at,
            action=e.action,
            actor=e.actor,
            target=e.target,
            address=e.address,
            user_agent=e.user_agent,
            trace_id=e.trace_id,
            detail=json.loads(e.detail),
            hash=e.hash,
        )
        for e in rows
    ]
    return Page.of(items, total, params.page, params.page_size)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


@dataclass(frozen=True)
class ChainReport:
    records: int
    first_seq: int | None
    head_seq: int
    head_hash: str
    broken_at: int | None  # the first record whose link or hash does not hold
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None and not self.problem


async def verify_chain(session: AsyncSession) -> ChainReport:
    """Recompute every record's hash in order, in batches; compare the last with the head, and the
    oldest with what retention removed (records deleted by anyone else are missing, not purged)."""
    head = (await session.execute(_HEAD)).one()
    purged = (await session.execute(_PURGED)).scalar_one()
    previous: AuditEvent | None = None
    first: int | None = None
    count, after = 0, -1
    while True:
        batch = (
            (
                await session.execute(
                    select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(_BATCH)
                )
            )
            .scalars()
            .all()
        )
        for event in batch:
            count += 1
            if first is None and event.seq != purged + 1:
                gone = f"#{purged + 1}" if event.seq == purged + 2 else f"#{purged + 1} to #{event.seq - 1}"
                return ChainReport(
                    count,
                    event.seq,
                    head.seq,
                    head.hash,
                    event.seq,
                    f"records {gone} are missing (not purged)",
                )
            first = event.seq if first is None else first
            if previous is not None and (event.seq != previous.seq + 1 or event.prev_hash != previous.hash):
                return ChainReport(
                    count, first, head.seq, head.hash, event.seq, "does not follow the record before it"
                )
            if _digest(event.prev_hash, _fields(event)) != event.hash:
                return ChainReport(
                    count, first, head.seq, head.hash, event.seq, "its content does not match its hash"
                )
            previous = event
        if len(batch) < _BATCH:
            break
        after = batch[-1].seq
    last_seq, last_hash = (previous.seq, previous.hash) if previous else (0, GENESIS)
    if previous is None and head.seq != purged:
        return ChainReport(
            0, None, head.seq, head.hash, None, f"the head names record {head.seq} but none is kept"
        )
    if (last_seq, last_hash) != (head.seq, head.hash) and previous is not None:
        return ChainReport(
            count,
            first,
            head.seq,
            head.hash,
            None,
            f"the newest record is {last_seq}, the head names {head.seq}",
        )
    return ChainReport(count, first, head.seq, head.hash, None)


async def purge_older_than(session: AsyncSession, days: int) -> int:
    """Delete records older than ``days`` (0: keep them for good), the oldest first, a batch per
    transaction, never the newest (it is what the head names); the head remembers the newest removed,
    so ``verify_chain`` tells them from records deleted otherwise. How many went."""
    if days <= 0:
        return 0
    cutoff = datetime.now(UTC) - timedelta(days=days)
    removed = 0
    while True:
        async with transaction(session):
            head = (await session.execute(_HEAD.with_only_columns(AuditHead.seq))).scalar_one()
            oldest = select(AuditEvent.seq, AuditEvent.occurred_at).where(AuditEvent.seq < head)
            rows = (await session.execute(oldest.order_by(AuditEvent.seq).limit(_BATCH))).all()
            batch = list(itertools.takewhile(lambda row: row.occurred_at < cutoff, rows))
            if not batch:
                return removed
            through = batch[-1].seq
            await session.execute(delete(AuditEvent).where(AuditEvent.seq <= through))
            await session.execute(_HEAD_ROW.values(purged_through=through))
            removed += len(batch)
