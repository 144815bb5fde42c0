"""The identity slice's data access."""

from __future__ import annotations

from kami.accounts.models import Account, Role
from kami.db.repository import Repository

__all__ = ["AccountRepository", "RoleRepository"]


class AccountRepository(Repository[Account]):
    model_type = Account


class RoleRepository(Repository[Role]):
    model_type = Role
