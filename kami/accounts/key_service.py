"""API keys as their makers manage them: made by a signed-in person (never by another key), carrying
some of their permissions and their tier; revoked at once everywhere (the store's copies go with it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from kami.accounts.api_keys import ApiKeyInfo, ApiKeys, keys_of, new_key, revoke_keys
from kami.accounts.permissions import ACCOUNTS_MANAGE
from kami.accounts.repositories import AccountRepository
from kami.accounts.schemas import ApiKeyCreated, ApiKeyIn
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
        if identity.api_key:
            raise PermissionDeniedError("An API key cannot make API keys: sign in")
        self.catalog.check(data.permissions)
        missing = sorted(name for name in data.permissions if not identity.holds(name))
        if missing:
            raise PermissionDeniedError(f"You cannot give what you do not hold: {', '.join(missing)}")
        account = await self.accounts.get_one_or_none(id=UUID(identity.user_id))
        if account is None:
            raise NotFoundError("No such user")
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

    async def mine(self, identity: Identity) -> list[ApiKeyInfo]:
        return [ApiKeyInfo.of(key) for key in await keys_of(self.session, identity.user_id)]

    async def revoke(self, identity: Identity, key_id: str) -> None:
        """The owner's own key, or anyone's for a holder of ``accounts:manage``."""
        owner = None if identity.can(ACCOUNTS_MANAGE) else identity.user_id
        await self.keys.forget(key_id)
        async with transaction(self.session):
            if not await revoke_keys(self.session, owner, key_id):
                raise NotFoundError("No such API key")
            await self.audit.record("api-key.revoked", identity.user_id, {"key": key_id})
        await self.keys.forget(key_id)
