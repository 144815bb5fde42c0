"""Recovery and address checks by email: single-use links, answers that never tell whether an
account exists."""

from __future__ import annotations

import hashlib
import secrets
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from kami.accounts.models import ACTIVE, Account
from kami.accounts.passwords import hash_password
from kami.accounts.repositories import AccountRepository
from kami.accounts.sessions import LoginSessions
from kami.codes import Codes
from kami.db.audit import AuditTrail
from kami.db.transaction import transaction
from kami.errors import NotFoundError
from kami.jobs.mail import Mailer
from kami.store.namespace import Store

__all__ = ["RESET_LINK_SECONDS", "RESET_ROUTE", "VERIFY_LINK_SECONDS", "VERIFY_ROUTE", "RecoveryService"]

RESET_LINK_SECONDS = 3600  # a password-reset link works once, for an hour
VERIFY_LINK_SECONDS = 7 * 86400  # an address-check link works once, for a week
RESET_ROUTE, VERIFY_ROUTE = "reset-password", "verify-email"  # the routes the emailed links open


class RecoveryService:
    def __init__(
        self,
        session: AsyncSession,
        store: Store,
        mailer: Mailer,
        sessions: LoginSessions,
        audit: AuditTrail,
    ) -> None:
        self.session = session
        self.store = store
        self.mailer = mailer
        self.sessions = sessions
        self.audit = audit
        self.accounts = AccountRepository(session=session)

    async def request_address_check(self, email: str) -> None:
        """Send the address-check message again, if an unconfirmed account has this address (the
        answer is the same either way: it never tells whether an account exists)."""
        account = await self.accounts.get_one_or_none(email=email.lower())
        if account is not None and account.status == ACTIVE and not account.email_verified:
            await self.send_address_check(account)

    async def send_address_check(self, account: Account) -> None:
        token = await self._one_time("verify", account, VERIFY_LINK_SECONDS)
        link = self.mailer.link(VERIFY_ROUTE, token=token)
        body = (
            f"Welcome, {account.username}. To confirm that this address is yours, open this link within "
            f"a week:\n{link}\n\nIf you did not make an account, ignore this message."
        )
        await self.mailer.send(account.email, "Confirm your address", body)

    async def confirm_address(self, token: str) -> None:
        account = await self._redeem("verify", token)
        async with transaction(self.session):
            account.email_verified = True
            await self.session.flush()
            await self.audit.record("email.verified", str(account.id), actor=str(account.id))

    async def request_password_reset(self, email: str) -> None:
        """Mail a single-use link (an hour) to the address, if an active account has it; the answer
        is the same either way."""
        account = await self.accounts.get_one_or_none(email=email.lower())
        if account is None or account.status != ACTIVE:
            return
        token = await self._one_time("reset", account, RESET_LINK_SECONDS)
        link = self.mailer.link(RESET_ROUTE, token=token)
        body = (
            f"Someone asked to reset the password of the account {account.username}.\n\n"
            f"To choose a new one, open this link within the hour (it works once):\n{link}\n\n"
            "If it was not you, ignore this message: your password stays as it is."
        )
        await self.mailer.send(account.email, "Reset your password", body)
        await self.audit.record("password.reset-requested", str(account.id))

    async def reset_password(self, token: str, password: str) -> None:
        """Set the new password and end every session of the account."""
        account = await self._redeem("reset", token)
        new_hash = await hash_password(password)
        async with transaction(self.session):
            account.password_hash = new_hash
            await self.session.flush()
            await self.audit.record("password.reset", str(account.id), actor=str(account.id))
        await self.sessions.revoke_all(str(account.id))

    async def _one_time(self, purpose: str, account: Account, seconds: int) -> str:
        """A random token for ``purpose``; only its hash is kept, in the store, for ``seconds``."""
        token = secrets.token_urlsafe(32)
        await self.store.backend.set(
            self._link_key(purpose, token), str(account.id).encode(), ttl=float(seconds)
        )
        return token

    async def _redeem(self, purpose: str, token: str) -> Account:
        """The account a token was made for, spending the token (once, even when two race)."""
        key = self._link_key(purpose, token)
        owner = await self.store.backend.get(key)
        if owner is None or not await self.store.backend.delete_if_value(key, owner):
            raise NotFoundError(code=Codes.LINK_NOT_VALID)
        account = await self.accounts.get_one_or_none(id=UUID(owner.decode()))
        if account is None or account.status != ACTIVE:
            raise NotFoundError(code=Codes.LINK_NOT_VALID)
        return account

    def _link_key(self, purpose: str, token: str) -> str:
        return self.store.key(purpose, hashlib.sha256(token.encode()).hexdigest())
