"""The identity slice's mail, sent by background jobs that make the link themselves.

A request asking for a reset or an address check only queues a job naming the address's canonical
form: the same work whether or not an account has it (nothing to time), and no token in the job's
arguments, the queue or a dead letter. The job finds the account, makes the link (retiring the older
ones) and sends the message; a failed send is retried with a new link, then dead-lettered.
"""

from __future__ import annotations

from sqlalchemy import select

from kami.accounts.links import RESET, VERIFY, LinkKind, OneTimeLinks
from kami.accounts.models import ACTIVE, Account
from kami.db.audit import AuditContext, AuditTrail
from kami.jobs.mail import deliver
from kami.jobs.runner import JobContext, JobSpec

__all__ = ["MAIL_JOBS", "mail_address_check", "mail_password_reset"]


async def _active_account(context: JobContext, email_key: str) -> Account | None:
    async with context.database() as session:
        found = (await session.execute(select(Account).where(Account.email_key == email_key))).scalar()
    return found if found is not None and found.status == ACTIVE else None


def _link(context: JobContext, kind: LinkKind, token: str) -> str:
    return f"{context.settings.mail.link_base.rstrip('/')}{kind.path}?token={token}"


async def mail_password_reset(context: JobContext, email_key: str, address: str = "") -> bool:
    """Mail a reset link if an active account has the address; whether a message went."""
    account = await _active_account(context, email_key)
    if account is None:
        return False
    token = await OneTimeLinks(context.store).issue(RESET, str(account.id))
    link = _link(context, RESET, token)
    body = (
        f"Someone asked to reset the password of the account {account.username}.\n\n"
        f"To choose a new one, open this link within the hour (it works once):\n{link}\n\n"
        "If it was not you, ignore this message: your password stays as it is."
    )
    await deliver(context.settings, account.email, "Reset your password", body)
    async with context.database() as session:
        audit = AuditTrail(session, AuditContext(actor="anonymous", address=address))
        await audit.record("password.reset-requested", str(account.id))
    return True


async def mail_address_check(context: JobContext, email_key: str) -> bool:
    """Mail an address-check link if an active, unconfirmed account has the address."""
    account = await _active_account(context, email_key)
    if account is None or account.email_verified:
        return False
    token = await OneTimeLinks(context.store).issue(VERIFY, str(account.id))
    body = (
        f"Welcome, {account.username}. To confirm that this address is yours, open this link within "
        f"a week:\n{_link(context, VERIFY, token)}\n\nIf you did not make an account, ignore this message."
    )
    await deliver(context.settings, account.email, "Confirm your address", body)
    return True


MAIL_JOBS = [
    JobSpec(mail_password_reset, retries=5, retry_delay=5.0, timeout=60),
    JobSpec(mail_address_check, retries=5, retry_delay=5.0, timeout=60),
]
