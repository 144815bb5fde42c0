"""Recovery and address checks by email: single-use links (:mod:`kami.accounts.links`) mailed by jobs
(:mod:`kami.accounts.mail_jobs`), answers that never tell whether an account exists."""

from __future__ import annotations

import hashlib
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from kami.accounts.api_keys import ApiKeys, revoke_keys
from kami.accounts.canonical import canonical
from kami.accounts.links import RESET, VERIFY, LinkKind, OneTimeLinks
from kami.accounts.mail_jobs import mail_address_check, mail_password_reset
from kami.accounts.models import ACTIVE, Account
from kami.accounts.passwords import hash_password
from kami.accounts.repositories import AccountRepository
from kami.accounts.sessions import LoginSessions
from kami.codes import Codes
from kami.db.audit import AuditTrail
from kami.db.transaction import transaction
from kami.errors import NotFoundError
from kami.jobs.runner import Jobs
from kami.store.namespace import Store

__all__ = ["MAILS_PER_RECIPIENT", "RecoveryService"]

MAILS_PER_RECIPIENT = (3, 3600.0)  # messages of one kind one address may be sent, per seconds


class RecoveryService:
    def __init__(
        self,
        session: AsyncSession,
        store: Store,
        jobs: Jobs,
        sessions: LoginSessions,
        keys: ApiKeys,
        audit: AuditTrail,
        address: str = "",
    ) -> None:
        self.session = session
        self.store = store
        self.links = OneTimeLinks(store)
        self.jobs = jobs
        self.sessions = sessions
        self.keys = keys
        self.audit = audit
        self.address = address  # the caller's, for the audit record the job writes
        self.accounts = AccountRepository(session=session)

    async def request_address_check(self, email: str) -> None:
        """Send the address-check message again, if an unconfirmed account has this address (the job
        decides; the answer and its timing are the same either way)."""
        email_key = canonical(email)
        if await self._within_cap(VERIFY, email_key):
            await self.jobs.enqueue(mail_address_check, email_key=email_key)

    async def send_address_check(self, account: Account) -> None:
        """At registration: the first address check."""
        await self.jobs.enqueue(mail_address_check, email_key=account.email_key)

    async def confirm_address(self, token: str) -> None:
        account = await self._redeem(VERIFY, token)
        async with transaction(self.session):
            account.email_verified = True
            await self.session.flush()
            await self.audit.record("email.verified", str(account.id), actor=str(account.id))

    async def request_password_reset(self, email: str) -> None:
        """Mail a single-use link (an hour) to the address, if an active account has it: the job
        decides, so the answer and its timing are the same either way. At most
        ``MAILS_PER_RECIPIENT`` per address, whoever asks and from wherever."""
        email_key = canonical(email)
        if await self._within_cap(RESET, email_key):
            await self.jobs.enqueue(mail_password_reset, email_key=email_key, address=self.address)

    async def reset_password(self, token: str, password: str) -> None:
        """Set the new password: every session of the account ends and every API key is revoked (the
        link proves the mailbox, not who held the old password), and older links stop working."""
        account = await self._redeem(RESET, token)
        user_id = str(account.id)
        new_hash = await hash_password(password)
        async with transaction(self.session):
            account.password_hash = new_hash
            await self.session.flush()
            revoked = await revoke_keys(self.session, user_id)
            ended = await self.sessions.revoke_all(user_id)
            detail = {"sessions_ended": ended, "keys_revoked": revoked}
            await self.audit.record("password.reset", user_id, detail, actor=user_id)
        await self.sessions.revoke_all(user_id)  # and any a login opened while this ran
        await self.keys.forget(*revoked)
        await self.links.retire(RESET, user_id)

    async def _within_cap(self, kind: LinkKind, email_key: str) -> bool:
        digest = hashlib.sha256(email_key.encode()).hexdigest()[:32]  # no addresses in keys
        limit, window = MAILS_PER_RECIPIENT
        result = await self.store.backend.hit_window(
            self.store.key("mail-cap", kind.name, digest), limit, window
        )
        return result.allowed

    async def _redeem(self, kind: LinkKind, token: str) -> Account:
        """The account a token was made for, spending the token."""
        owner = await self.links.redeem(kind, token)
        account = await self.accounts.get_one_or_none(id=UUID(owner)) if owner else None
        if account is None or account.status != ACTIVE:
            raise NotFoundError(code=Codes.LINK_NOT_VALID)
        return account
