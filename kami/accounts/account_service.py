"""Accounts: registration, one's own profile, and what admins change (status, role, tier, deletion)."""

from __future__ import annotations

from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from kami.accounts.api_keys import ApiKeys, revoke_keys
from kami.accounts.models import DELETED, DISABLED, Account
from kami.accounts.passwords import hash_password
from kami.accounts.recovery_service import RecoveryService
from kami.accounts.repositories import AccountRepository
from kami.accounts.role_service import RoleService
from kami.accounts.schemas import AccountChange, ProfileUpdate, Registration, UserOut
from kami.accounts.sessions import LoginSessions
from kami.db.audit import AuditTrail
from kami.db.pagination import PageParams
from kami.db.service import Service
from kami.envelope import Page
from kami.errors import NotFoundError
from kami.security.identity import Identity
from kami.security.permissions import ADMIN_ROLE, USER_ROLE

__all__ = ["AccountService"]


class AccountService(Service[Account, UserOut]):
    """Each change to an account reaches its sessions in the same call: a deactivated or deleted
    account's sessions end and its keys are revoked (before and after the commit, so a login racing
    the change cannot keep one), a new role or tier is written into its sessions after the commit."""

    repository_type = AccountRepository
    out_type = UserOut
    repository: AccountRepository

    def __init__(
        self,
        session: AsyncSession,
        sessions: LoginSessions,
        roles: RoleService,
        audit: AuditTrail,
        keys: ApiKeys,
        tiers: frozenset[str],
        recovery: RecoveryService | None = None,  # None on the command line: nobody to send mail to
    ) -> None:
        super().__init__(session)
        self.sessions = sessions
        self.roles = roles
        self.audit = audit
        self.keys = keys
        self.tiers = tiers
        self.recovery = recovery

    async def register(self, data: Registration, role: str = USER_ROLE) -> UserOut:
        """A new account; a taken email or username is answered 409 / 4002. A message asks the owner of
        the address to confirm it."""
        password_hash = await hash_password(data.password)
        async with self.transaction():
            account = await self.create(
                Account(
                    email=data.email.lower(), username=data.username, password_hash=password_hash, role=role
                )
            )
        if self.recovery is not None:
            await self.recovery.send_address_check(account)
        return self.to_out(account)

    async def promote(self, email: str) -> UserOut | None:
        """Make the account with ``email`` an administrator; None when there is no such account."""
        account = await self.get_one_or_none(email=email.lower())
        return None if account is None else await self.change(account.id, AccountChange(role=ADMIN_ROLE))

    async def profile(self, identity: Identity) -> UserOut:
        return await self.account(UUID(identity.user_id))

    async def account(self, user_id: UUID) -> UserOut:
        account = await self.get_one_or_none(id=user_id)
        if account is None:
            raise NotFoundError("No such user")
        return self.to_out(account)

    async def accounts(self, params: PageParams) -> Page[UserOut]:
        return await self.page(params)

    async def update_profile(self, identity: Identity, data: ProfileUpdate) -> UserOut:
        """A new password ends every other session of the account (this one goes on)."""
        changes = msgspec.to_builtins(data)
        new_hash = await hash_password(data.password) if isinstance(data.password, str) else None
        async with self.transaction():
            account = await self.get(UUID(identity.user_id))
            if "username" in changes:
                account.username = changes["username"]
            if new_hash:
                account.password_hash = new_hash
            await self.session.flush()
            if new_hash:
                await self.audit.record("password.changed", identity.user_id)
        if new_hash:
            await self.sessions.revoke_all(identity.user_id, keep=identity.session_id)
        return self.to_out(account)

    async def change(self, user_id: UUID, data: AccountChange) -> UserOut:
        """An admin's change of status, role or tier, checked against what exists."""
        if isinstance(data.role, str) and not await self.roles.is_defined(data.role):
            raise NotFoundError(f"No role named {data.role!r}")
        if isinstance(data.tier, str) and data.tier not in self.tiers:
            raise NotFoundError(
                f"No rate-limit tier named {data.tier!r} (tiers: {', '.join(sorted(self.tiers))})"
            )
        disabling, revoked = data.status == DISABLED, list[str]()
        async with self.transaction():
            account = await self.get_one_or_none(id=user_id)
            if account is None or account.status == DELETED:
                raise NotFoundError("No such user")
            changes: dict[str, list[str]] = {}
            for name in ("status", "role", "tier"):
                value, before = getattr(data, name), getattr(account, name)
                if isinstance(value, str) and value != before:
                    changes[name] = [before, value]
                    setattr(account, name, value)
            await self.session.flush()
            if changes:
                await self.audit.record("account.changed", str(user_id), changes)
            if disabling:
                revoked = await self._end_access(str(user_id))
        if disabling:
            await self._end_access(str(user_id), revoked)
        else:
            permissions = await self.roles.permissions_of(account.role)
            await self.sessions.update_account(
                Identity(str(account.id), account.role, account.tier, permissions)
            )
        return self.to_out(account)

    async def remove(self, user_id: UUID) -> None:
        """Anonymise the account: what apps keep about it stays (an order is still an order), nothing
        names the person, nobody can log in to it, its sessions end and its keys are revoked."""
        async with self.transaction():
            account = await self.get_one_or_none(id=user_id)
            if account is None or account.status == DELETED:
                raise NotFoundError("No such user")
            account.email = f"deleted-{account.id}@deleted.invalid"
            account.username = f"deleted-{account.id.hex[:24]}"
            account.password_hash = "!"  # matches no password
            account.status = DELETED
            await self.session.flush()
            await self.audit.record("account.deleted", str(user_id))
            revoked = await self._end_access(str(user_id))
        await self._end_access(str(user_id), revoked)

    async def _end_access(self, user_id: str, revoked: list[str] | None = None) -> list[str]:
        """End every session and revoke every API key of the account; the keys revoked. Called inside
        the change's transaction, then after its commit with those keys: a login or a key check racing
        the change cannot keep access it read before the commit (a session it opened, a key's copy)."""
        if revoked is None:
            revoked = await revoke_keys(self.session, user_id)
        await self.sessions.revoke_all(user_id)
        await self.keys.forget(*revoked)
        return revoked
