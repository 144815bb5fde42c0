"""Base classes for every app's tables: UUIDv7 ids that migrate cleanly on MariaDB, audit columns,
and two opt-in mixins (optimistic concurrency, per-app rows).

Not the BigInt bases: on MariaDB they need a SEQUENCE that Alembic autogenerate does not create.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from advanced_alchemy.base import UUIDv7AuditBase
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from kami.db.types import PreciseDateTimeUTC

__all__ = ["ACCOUNT_ID", "AppScoped", "Model", "Versioned"]

ACCOUNT_ID = "kami_account.id"  # the platform's accounts (kami.accounts.models.Account), for foreign keys


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Model(UUIDv7AuditBase):
    """``id`` (UUIDv7), ``created_at``, ``updated_at``; the table name is the class name in snake_case.

    The audit columns keep microseconds on every backend (see :class:`PreciseDateTimeUTC`).
    """

    __abstract__ = True

    created_at: Mapped[datetime] = mapped_column(
        PreciseDateTimeUTC(timezone=True), default=_utc_now, sort_order=3002
    )
    updated_at: Mapped[datetime] = mapped_column(
        PreciseDateTimeUTC(timezone=True), default=_utc_now, onupdate=_utc_now, sort_order=3003
    )


class Versioned:
    """Adds ``version``: every UPDATE checks it, so a stale write fails (answered 409 / 4003)."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - SQLAlchemy's declared_attr convention
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class AppScoped:
    """Adds ``app_id``: repositories filter by the calling app and stamp it on insert."""

    app_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
