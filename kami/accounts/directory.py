"""What apps may know about accounts: whether one exists, and what to call it. The identity slice
exports it (``accounts: NamedDependency[AccountDirectory]``); apps never read the account table."""

from __future__ import annotations

from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from kami.accounts.repositories import AccountRepository
from kami.store.namespace import Store

__all__ = ["AccountDirectory", "AccountSummary", "account_directory"]


class AccountSummary(msgspec.Struct, frozen=True):
    id: UUID
    username: str
    status: str  # active, disabled or deleted


class AccountDirectory:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, account_id: UUID) -> AccountSummary | None:
        """The account with this id (deactivated and deleted ones too: their records stay), or None."""
        row = await AccountRepository.read_row(self.session, account_id)
        return None if row is None else AccountSummary(row["id"], row["username"], row["status"])


def account_directory(session: AsyncSession, _: Store) -> AccountDirectory:
    """The ``accounts`` dependency the identity slice exports to every app."""
    return AccountDirectory(session)
