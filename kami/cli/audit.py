"""``kami audit verify``: recompute the audit trail's hash chain from the oldest kept record to the head."""

from __future__ import annotations

import anyio
import click

from kami.cli.output import EXIT_FAILED, fail, settings_or_fail
from kami.db.audit import ChainReport, verify_chain
from kami.db.session import session_scope

__all__ = ["audit"]


@click.group("audit")
def audit() -> None:
    """The audit trail of security events."""


@audit.command("verify")
def verify() -> None:
    """Check every record's hash and link, and that the newest is the one the head names. Prints the head
    hash: keep it elsewhere, and a rewrite of the whole chain shows as a different head."""
    settings = settings_or_fail()

    async def run() -> ChainReport:
        async with session_scope(settings) as session:
            return await verify_chain(session)

    report = anyio.run(run)
    kept = f"{report.records} records" + (
        f" from #{report.first_seq}" if report.first_seq is not None else ""
    )
    if not report.intact:
        where = f" at record #{report.broken_at}" if report.broken_at is not None else ""
        fail(f"audit trail broken{where}: {report.problem} ({kept})", EXIT_FAILED)
    click.echo(f"audit trail intact: {kept}, head #{report.head_seq} {report.head_hash}")
