"""``kami migrate`` applies the one migration history; ``kami db ...`` inspects and extends it.

Every command goes through :mod:`kami.db.migrations` with every app's models imported, mounted or
not (so autogenerate never mistakes an unmounted app's tables for tables to drop), and none asks a
question: each runs unattended in a deploy script.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import click
import structlog
from advanced_alchemy.alembic.commands import AlembicCommands

from kami.app_spec import import_every_app
from kami.cli.diagnostics import database_problem
from kami.cli.loading import apps_or_fail
from kami.cli.output import EXIT_FAILED, fail, settings_or_fail
from kami.db.migrations import alembic_commands, upgrade
from kami.settings import Settings

__all__ = ["apply_migrations", "db", "migrate"]

log = structlog.get_logger("kami.cli.database")


@click.command()
@click.option("--to", "revision", default="head", show_default=True, help="Stop at this revision.")
def migrate(revision: str) -> None:
    """Apply every pending migration and exit (the container's ``migrate`` mode)."""
    settings = settings_or_fail()
    apps_or_fail(settings)
    apply_migrations(settings, revision)


def apply_migrations(settings: Settings, revision: str = "head", *, narrate: bool = True) -> None:
    """Apply pending migrations, naming each as it runs; explain an unreachable database.
    ``narrate=False`` (a server, whose logging is configured): Alembic's own log lines say it."""
    problem = None if settings.uses_embedded_database else database_problem(settings)
    if problem is not None:
        fail(problem, code=EXIT_FAILED)
    started = time.perf_counter()
    with _narrated_upgrades() if narrate else nullcontext():
        try:
            upgrade(settings, revision)
        except Exception as exc:
            fail(f"migration failed: {type(exc).__name__}: {exc}", code=EXIT_FAILED)
    seconds = time.perf_counter() - started
    if narrate:
        click.echo(f"database schema is up to date ({seconds:.1f} s)", err=True)
    else:
        log.info("database schema is up to date", seconds=round(seconds, 2))


@contextmanager
def _narrated_upgrades() -> Iterator[None]:
    """Each migration Alembic runs, as one plain line for the person at the terminal."""

    class _Progress(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if message.startswith("Running upgrade"):
                click.echo(f"  applying {message.removeprefix('Running upgrade').strip()}", err=True)

    progress = _Progress(level=logging.INFO)
    alembic_log = logging.getLogger("alembic.runtime.migration")
    alembic_log.addHandler(progress)
    previous_level = alembic_log.level
    alembic_log.setLevel(logging.INFO)
    try:
        yield
    finally:
        alembic_log.removeHandler(progress)
        alembic_log.setLevel(previous_level)


@click.group("db")
def db() -> None:
    """The one migration history of every app (apps/migrations). Apply it with `kami migrate`.

    Every command sees every app's models under apps/, mounted or not, and none asks a question.
    """


def _alembic() -> AlembicCommands:
    settings = settings_or_fail()
    import_every_app()  # the models of every app, mounted or not, on the shared metadata
    return alembic_commands(settings)


@db.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    _alembic().current(verbose=False)


@db.command("history")
def db_history() -> None:
    """List every revision, newest first."""
    _alembic().history(verbose=False)


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the revision does.")
@click.option("--autogenerate", is_flag=True, help="Fill the revision from the difference to the models.")
def db_revision(message: str, autogenerate: bool) -> None:
    """Create a new revision in the shared history (apps/migrations/versions)."""
    _alembic().revision(message=message, autogenerate=autogenerate)


@db.command("downgrade", context_settings={"ignore_unknown_options": True})  # "-1" is a revision
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Step the database back to REVISION (a revision id, -1 for one step, or base): destructive, so
    the revision is always spelled out."""
    _alembic().downgrade(revision)
