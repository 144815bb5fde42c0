"""API keys as people manage them: made by their owner signed in (never by another key), from a
confirmed address and a recent sign-in, carrying some of the owner's permissions; revoked at once
everywhere (the store's copies go with them). Admins list and revoke anyone's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from kami.accounts.api_keys import ApiKeys, keys_of, new_key, revoke_keys
from kami.accounts.repositories import AccountRepository
from kami.accounts.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyInfo
from kami.codes import Codes
from kami.db.audit import AuditTrail
from kami.db.transaction import transaction
from kami.errors import NotFoundError, PermissionDeniedError
from kami.security.identity import Identity
from kami.security.permissions import PermissionCatalog

__all__ = ["ApiKeyService"]


class ApiKeyService:
    def __init__(
        self, session: AsyncSession, keys: ApiKeys, catalog: PermissionCatalog, audit: AuditTrail
    ) -> None:
        self.session = session
        self.keys = keys
        self.catalog = catalog
        self.audit = audit
        self.accounts = AccountRepository(session=session)

    async def create(self, identity: Identity, data: ApiKeyIn) -> ApiKeyCreated:
        """A key with some of the maker's permissions (never one they do not hold)."""
        self.catalog.check(data.permissions)
        missing = sorted(name for name in data.permissions if not identity.holds(name))
        if missing:
            raise PermissionDeniedError(f"You cannot give what you do not hold: {', '.join(missing)}")
        account = await self.accounts.get_one_or_none(id=UUID(identity.user_id))
        if account is None:
            raise NotFoundError("No such user")
        if not account.email_verified:
            raise PermissionDeniedError(code=Codes.ADDRESS_NOT_CONFIRMED)
        days = data.expires_in_days
        expires = datetime.now(UTC) + timedelta(days=days) if isinstance(days, int) else None
        async with transaction(self.session):
            key, text = await new_key(
                self.session, identity.user_id, data.name, data.permissions, account.tier, expires
            )
            await self.audit.record(
                "api-key.created", identity.user_id, {"key": key.id, "permissions": key.permissions}
            )
        return ApiKeyCreated(**msgspec.structs.asdict(ApiKeyInfo.of(key)), key=text)

    async def of_account(self, user_id: str) -> list[ApiKeyInfo]:
        """An account's live keys, newest first (never their secrets)."""
        return [ApiKeyInfo.of(key) for key in await keys_of(self.session, user_id)]

    async def of_existing_account(self, user_id: UUID) -> list[ApiKeyInfo]:
        """As :meth:`of_account`, 404 for an account that does not exist."""
        if await self.accounts.get_one_or_none(id=user_id) is None:
            raise NotFoundError("No such user")
        return await self.of_account(str(user_id))

    async def revoke(self, actor: Identity, owner: str, key_id: str) -> None:
        """Revoke ``owner``'s key ``key_id`` (404 when ``owner`` has no such live key)."""
        await self.keys.forget(key_id)
        async with transaction(self.session):
            if not await revoke_keys(self.session, owner, key_id):
                raise NotFoundError("No such API key")
            await self.audit.record("api-key.revoked", owner, {"key": key_id, "by": actor.user_id})
        await self.keys.forget(key_id)
