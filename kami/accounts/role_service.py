"""Roles: the built-in ``user`` and ``admin`` (from the apps' declarations) and those admins define."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from kami.accounts.models import Account, Role
from kami.accounts.repositories import AccountRepository, RoleRepository
from kami.accounts.schemas import RoleIn, RoleOut
from kami.accounts.sessions import LoginSessions
from kami.codes import Codes
from kami.db.audit import AuditTrail
from kami.db.service import Service
from kami.errors import ConflictError, NotFoundError, PermissionDeniedError
from kami.security.identity import Identity
from kami.security.permissions import BUILT_IN_ROLES, PermissionCatalog

__all__ = ["KeyForgetter", "RoleService", "permissions_of_role"]

KeyForgetter = Callable[[AsyncSession, str], Awaitable[None]]


async def permissions_of_role(session: AsyncSession, catalog: PermissionCatalog, role: str) -> frozenset[str]:
    """What ``role`` may do now: a built-in role's set, a defined role's permissions that some mounted
    app still declares, nothing for a role that no longer exists."""
    built_in = catalog.built_in(role)
    if built_in is not None:
        return built_in
    found = await RoleRepository(session=session).get_one_or_none(name=role)
    return frozenset(found.permissions) & frozenset(catalog.declared) if found else frozenset()


class RoleService(Service[Role, RoleOut]):
    """Changing a role changes the sessions of everyone who holds it, at once."""

    repository_type = RoleRepository
    out_type = RoleOut
    repository: RoleRepository

    def __init__(
        self,
        session: AsyncSession,
        catalog: PermissionCatalog,
        sessions: LoginSessions,
        audit: AuditTrail,
        forget_keys: KeyForgetter,
    ) -> None:
        super().__init__(session)
        self.catalog = catalog
        self.sessions = sessions
        self.audit = audit
        self.forget_keys = forget_keys  # the copies of an account's API keys, read again afterwards

    async def permissions_of(self, role: str) -> frozenset[str]:
        return await permissions_of_role(self.session, self.catalog, role)

    async def is_defined(self, role: str) -> bool:
        return role in BUILT_IN_ROLES or await self.get_one_or_none(name=role) is not None

    async def roles(self) -> list[RoleOut]:
        built_in = [
            RoleOut(
                name=name,
                description=f"Built in ({name})",
                permissions=sorted(self.catalog.built_in(name) or ()),
                built_in=True,
            )
            for name in BUILT_IN_ROLES
        ]
        defined = sorted(await self.repository.get_many(), key=lambda role: role.name)
        return [*built_in, *(self._out(role) for role in defined)]

    async def define(self, actor: Identity, name: str, data: RoleIn) -> RoleOut:
        """Create or replace the role ``name`` with permissions ``actor`` holds; its holders' sessions
        (and keys) change at once."""
        if name in BUILT_IN_ROLES:
            raise ConflictError(code=Codes.ROLE_BUILT_IN)
        self.catalog.check(data.permissions)
        beyond = sorted(p for p in set(data.permissions) if not actor.holds(p))
        if beyond:
            raise PermissionDeniedError(f"You cannot give what you do not hold: {', '.join(beyond)}")
        async with self.transaction():
            role = await self.get_one_or_none(name=name)
            if role is None:
                role = await self.create(Role(name=name))
            role.description = data.description
            role.permissions = sorted(set(data.permissions))
            await self.session.flush()
            await self.audit.record("role.defined", name, {"permissions": role.permissions})
        await self._refresh_holders(name)
        return self._out(role)

    async def remove(self, name: str) -> None:
        """Remove a defined role nobody holds (409 while someone does)."""
        if name in BUILT_IN_ROLES:
            raise ConflictError(code=Codes.ROLE_BUILT_IN)
        async with self.transaction():
            role = await self.get_one_or_none(name=name)
            if role is None:
                raise NotFoundError("No such role")
            if await AccountRepository(session=self.session).count(Account.role == name):
                raise ConflictError(code=Codes.ROLE_IN_USE)
            await self.delete(role.id)
            await self.audit.record("role.removed", name)

    async def _refresh_holders(self, name: str) -> None:
        permissions = await self.permissions_of(name)
        for account in await AccountRepository(session=self.session).get_many(Account.role == name):
            await self.sessions.update_account(
                Identity(str(account.id), account.role, account.tier, permissions)
            )
            await self.forget_keys(self.session, str(account.id))

    @staticmethod
    def _out(role: Role) -> RoleOut:
        return RoleOut(
            name=role.name, description=role.description, permissions=list(role.permissions), built_in=False
        )
