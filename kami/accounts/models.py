"""The identity slice's tables: accounts, the roles admins define, and service clients' API keys.

Platform tables (``kami_*``): every app's rows may refer to an account by its id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kami.db.models import Model
from kami.db.types import PreciseDateTimeUTC, exact_string

__all__ = ["ACTIVE", "DELETED", "DISABLED", "Account", "ApiKey", "Role"]

ACTIVE, DISABLED, DELETED = "active", "disabled", "deleted"  # Account.status


class Account(Model):
    """``email`` and ``username`` as given; ``email_key`` and ``username_key`` their canonical forms
    (:mod:`kami.accounts.canonical`), unique byte for byte on every database: what lookups use."""

    __tablename__ = "kami_account"

    email: Mapped[str] = mapped_column(String(320))
    username: Mapped[str] = mapped_column(String(50))
    email_key: Mapped[str] = mapped_column(exact_string(320), unique=True)
    username_key: Mapped[str] = mapped_column(exact_string(50), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(50), default="user", server_default="user")
    tier: Mapped[str] = mapped_column(String(20), default="free", server_default="free")
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE, server_default=ACTIVE)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Role(Model):
    """A role an admin defined: a named set of declared permissions (``user`` and ``admin`` are built
    in, never stored)."""

    __tablename__ = "kami_role"

    name: Mapped[str] = mapped_column(String(50), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)


class _Base(DeclarativeBase):
    metadata = Model.metadata  # the one metadata every migration compares against


class ApiKey(_Base):
    """A service client's key: ``kami_<id>_<secret>``, only the SHA-256 of the secret kept."""

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
