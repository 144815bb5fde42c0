"""Accounts: registration, one's own profile, and what admins change (status, role, tier, deletion)."""

from __future__ import annotations

from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from kami.accounts.api_keys import ApiKeys, revoke_keys
from kami.accounts.canonical import canonical
from kami.accounts.models import DELETED, DISABLED, Account
from kami.accounts.passwords import hash_password, verify_password
from kami.accounts.recovery_service import RecoveryService
from kami.accounts.repositories import AccountRepository
from kami.accounts.role_service import RoleService
from kami.accounts.schemas import AccountChange, ProfileUpdate, Registration, UserOut
from kami.accounts.sessions import LoginSessions
from kami.db.audit import AuditTrail
from kami.db.pagination import PageParams
from kami.db.service import Service
from kami.envelope import Page
from kami.errors import NotFoundError, PermissionDeniedError
from kami.security.identity import Identity
from kami.security.permissions import ADMIN_ROLE, EVERYTHING, USER_ROLE

__all__ = ["COMMAND_LINE", "AccountService"]

# Who acts on the command line: an operator with the database's keys, holding everything.
COMMAND_LINE = Identity("cli", ADMIN_ROLE, permissions=frozenset({EVERYTHING}))


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
        the address to confirm it (made on the command line, with no one to ask, the operator vouches for
        the address: it counts as confirmed)."""
        password_hash = await hash_password(data.password)
        async with self.transaction():
            account = await self.create(
                Account(
                    email=data.email,
                    username=data.username,
                    email_key=canonical(data.email),
                    username_key=canonical(data.username),
                    password_hash=password_hash,
                    role=role,
                    email_verified=self.recovery is None,
                )
            )
        if self.recovery is not None:
            await self.recovery.send_address_check(account)
        return self.to_out(account)

    async def promote(self, email: str) -> UserOut | None:
        """Make the account with ``email`` an administrator (the command line, which holds everything);
        None when there is no such account."""
        account = await self.get_one_or_none(email_key=canonical(email))
        if account is None:
            return None
        return await self.change(COMMAND_LINE, account.id, AccountChange(role=ADMIN_ROLE))

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
        """A new password needs the current one, and ends every other session of the account (this one
        goes on); its API keys stay."""
        changes = msgspec.to_builtins(data)
        new_hash = None
        if isinstance(data.password, str):
            account = await self.get(UUID(identity.user_id))
            current = data.current_password if isinstance(data.current_password, str) else ""
            if not await verify_password(account.password_hash, current):
                raise PermissionDeniedError("The current password is not right: send it as current_password")
            new_hash = await hash_password(data.password)
        async with self.transaction():
            account = await self.get(UUID(identity.user_id))
            if "username" in changes and changes["username"] != account.username:
                renamed = {"from": account.username, "to": changes["username"]}
                account.username, account.username_key = changes["username"], canonical(changes["username"])
                await self.session.flush()
                await self.audit.record("account.renamed", identity.user_id, renamed)
            if new_hash:
                account.password_hash = new_hash
            await self.session.flush()
            if new_hash:
                await self.audit.record("password.changed", identity.user_id)
        if new_hash:
            await self.sessions.revoke_all(identity.user_id, keep=identity.session_id)
        return self.to_out(account)

    async def change(self, actor: Identity, user_id: UUID, data: AccountChange) -> UserOut:
        """An admin's change of status, role or tier, checked against what exists. Nobody gives a role
        holding a permission they do not hold themselves, and nobody changes their own role."""
        if isinstance(data.role, str):
            if not await self.roles.is_defined(data.role):
                raise NotFoundError(f"No role named {data.role!r}")
            if str(user_id) == actor.user_id:
                raise PermissionDeniedError("Nobody changes their own role: ask another administrator")
            beyond = sorted(p for p in await self.roles.permissions_of(data.role) if not actor.holds(p))
            if beyond:
                raise PermissionDeniedError(f"You cannot give what you do not hold: {', '.join(beyond)}")
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
            await self.keys.forget_account(self.session, str(user_id))  # read again with the new role
        return self.to_out(account)

    async def remove(self, user_id: UUID) -> None:
        """Anonymise the account: what apps keep about it stays (an order is still an order), nothing
        names the person, nobody can log in to it, its sessions end and its keys are revoked."""
        async with self.transaction():
            account = await self.get_one_or_none(id=user_id)
            if account is None or account.status == DELETED:
                raise NotFoundError("No such user")
            # Names nobody can register (the API takes no ':' in either): no squatter can block this.
            account.email = account.email_key = f"deleted:{account.id}"
            account.username = account.username_key = f"deleted:{account.id.hex[:24]}"
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
