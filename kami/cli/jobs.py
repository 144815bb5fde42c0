"""``kami jobs dead`` and ``kami jobs replay KEY``: the dead letters a ``kami worker`` leaves in Redis."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import anyio
import click
import msgspec

from kami.accounts.slice import with_accounts
from kami.cli.loading import apps_or_fail
from kami.cli.output import EXIT_FAILED, fail, settings_or_fail
from kami.db.config import build_sqlalchemy_config
from kami.jobs import PLATFORM_JOBS, Jobs, collect, redis_queue
from kami.jobs.dead_letters import read_all
from kami.store.client import build_backend, build_redis

__all__ = ["jobs"]

T = TypeVar("T")


@click.group("jobs")
def jobs() -> None:
    """Dead letters of background jobs (needs KAMI_REDIS_URL: without Redis, jobs and their dead
    letters live inside the web process)."""


def _with_jobs(action: Callable[[Jobs], Awaitable[T]]) -> T:
    settings = settings_or_fail()
    client = build_redis(settings)
    if client is None:
        fail("kami jobs needs KAMI_REDIS_URL: without Redis, dead letters stay inside the web process")
    registered = collect(with_accounts(apps_or_fail(settings)), PLATFORM_JOBS)

    async def run() -> T:
        backend = build_backend(settings)
        database = build_sqlalchemy_config(settings)  # connects only if a job runs here (none does)
        try:
            return await action(
                Jobs(registered, backend, redis_queue(client), settings, database.get_session)
            )
        finally:
            await backend.close()
            await client.aclose()
            await database.get_engine().dispose()

    return anyio.run(run)


@jobs.command("dead")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def jobs_dead(as_json: bool) -> None:
    """List the dead letters kept (30 days), oldest first."""
    letters = _with_jobs(lambda runner: read_all(runner.backend))
    for letter in letters:
        if as_json:
            click.echo(json.dumps(msgspec.to_builtins(letter)))
            continue
        failed = datetime.fromtimestamp(letter.failed_at, UTC).isoformat(timespec="seconds")
        click.echo(f"{letter.key}  {letter.function}  {failed}  attempts={letter.attempts}  {letter.error}")
    if not letters and not as_json:
        click.echo("no dead letters")


@jobs.command("replay")
@click.argument("key")
def jobs_replay(key: str) -> None:
    """Queue a dead letter's job again with the same arguments (the letter is removed)."""
    new_key = _with_jobs(lambda runner: runner.replay(key))
    if new_key is None:
        fail(f"no dead letter {key!r} of a mounted app's job (see `kami jobs dead`)", code=EXIT_FAILED)
    click.echo(f"{key} queued again as {new_key}")
