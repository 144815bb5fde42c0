"""kami's own background jobs, registered beside every app's."""

from __future__ import annotations

from kami.db.audit import purge_older_than
from kami.db.idempotency import purge_expired
from kami.db.transaction import transaction
from kami.jobs.mail import MAIL_JOB
from kami.jobs.runner import JobContext, JobSpec

__all__ = ["PLATFORM_JOBS", "purge_audit_events", "purge_idempotency_records"]


async def purge_idempotency_records(context: JobContext) -> int:
    """Delete Idempotency-Key answers kept past ``KAMI_DATABASE_IDEMPOTENCY_HOURS``, a batch per
    transaction (expired answers are never replayed in the meantime: a retry then runs afresh)."""
    removed = 0
    async with context.database() as session:
        while True:
            async with transaction(session):
                batch = await purge_expired(session)
            removed += batch
            if batch == 0:
                return removed


async def purge_audit_events(context: JobContext) -> int:
    """Delete audit records older than ``KAMI_AUDIT_RETENTION_DAYS`` (the newest always stays)."""
    async with context.database() as session:
        return await purge_older_than(session, context.settings.security.audit_retention_days)


PLATFORM_JOBS = [
    MAIL_JOB,
    JobSpec(purge_idempotency_records, retries=3, retry_delay=5.0, timeout=120, cron="23 * * * *"),
    JobSpec(purge_audit_events, retries=3, retry_delay=5.0, timeout=120, cron="47 3 * * *"),
]
