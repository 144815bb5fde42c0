"""The ``kami`` command: serve, config, db, apps.

Exit codes: 0 success, 1 a command failed, 2 invalid configuration or usage.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, NoReturn

import click

from kami.settings import Settings, SettingsError, get_settings, load_settings, masked

__all__ = ["main"]

EXIT_CONFIG = 2


def _fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    click.secho(f"kami: {message}", fg="red", err=True)
    sys.exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        _fail(str(exc))


def _warn(message: str) -> None:
    click.secho(f"kami: warning: {message}", fg="yellow", err=True)


class _KamiGroup(click.Group):
    """kami's own commands, plus those the configured apps declare (``AppSpec.commands``)."""

    def _app_commands(self) -> dict[str, click.Command]:
        from kami.app_spec import AppLoadError, load_apps

        try:
            specs = load_apps(load_settings().app.apps)
        except (SettingsError, AppLoadError):
            return {}
        return {command.name: command for spec in specs for command in spec.commands if command.name}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._app_commands()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._app_commands().get(name)


@click.group(
    cls=_KamiGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: 0 success, 1 a command failed, 2 invalid configuration or usage. "
    "Output is coloured on a terminal and plain when piped. Every command takes --help.",
)
def main() -> None:
    """kami: one entry point for several Litestar applications."""
    get_settings.cache_clear()  # each invocation reads the environment afresh


@main.command()
@click.option("--host", default=None, help="Bind address (default KAMI_SERVER_HOST).")
@click.option("--port", type=int, default=None, help="Port (default KAMI_SERVER_PORT).")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Worker processes (default KAMI_SERVER_WORKERS; 0 = one per CPU with Redis, one without).",
)
@click.option("--migrate", is_flag=True, help="Apply database migrations before serving.")
def serve(host: str | None, port: int | None, workers: int | None, migrate: bool) -> None:
    """Serve kami under Granian: respawning workers, drain on SIGTERM, bounded graceful shutdown."""
    from kami.cli.serving import serve as serve_forever
    from kami.observability.prometheus_dir import prepare_multiprocess_dir

    settings = _settings()
    try:
        settings.worker_count(workers)
    except SettingsError as exc:
        _fail(str(exc))
    # Before anything imports prometheus_client: it picks its multiprocess storage at import time.
    prepare_multiprocess_dir(settings.app.data_dir)
    _load_apps_or_fail(settings)
    if migrate or settings.should_auto_migrate:
        _migrate(settings)
    from kami.cli.diagnostics import unreachable_services

    for problem in unreachable_services(settings):
        _warn(f"{problem}; serving anyway: /health/ready answers 503 until it answers")
    # Workers must not race each other to migrate: the parent did it (or the operator's job does).
    os.environ["KAMI_DATABASE_AUTO_MIGRATE"] = "false"
    get_settings.cache_clear()
    serve_forever(settings, host=host, port=port, workers=workers)


@main.command()
@click.option("--concurrency", type=int, default=10, show_default=True, help="Jobs run at once.")
def worker(concurrency: int) -> None:
    """Run background jobs (and their cron schedules) from the shared Redis queue."""
    import anyio

    from kami.jobs import build_worker, collect, redis_queue
    from kami.observability.logging import configure_logging
    from kami.store.client import build_backend, build_redis

    settings = _settings()
    specs = _load_apps_or_fail(settings)
    client = build_redis(settings)
    if client is None:
        _fail("kami worker needs KAMI_REDIS_URL (without Redis, jobs run inside the web process)")
    from kami.cli.diagnostics import redis_problem

    problem = redis_problem(settings)
    if problem is not None:
        _fail(problem, code=1)
    configure_logging(settings, settings.app.name + "-worker")
    jobs = collect(specs)
    click.echo(f"kami worker: {len(jobs)} job(s): {', '.join(sorted(jobs)) or 'none'}", err=True)

    async def run() -> None:
        queue = redis_queue(client)
        grace = settings.server.graceful_timeout
        await build_worker(
            jobs, build_backend(settings), queue, settings, concurrency=concurrency, grace=grace
        ).start()

    anyio.run(run)


@main.command()
@click.option("--to", "revision", default="head", show_default=True, help="Stop at this revision.")
def migrate(revision: str) -> None:
    """Apply every pending migration and exit (the container's ``migrate`` mode)."""
    settings = _settings()
    _load_apps_or_fail(settings)
    _migrate(settings, revision)


@main.command("config")
@click.option("--example", is_flag=True, help="Print .env.example (every variable with its default) instead.")
def show_config(example: bool) -> None:
    """Print the effective settings (secrets masked); exit 2 if they are invalid."""
    if example:
        from kami.settings import env_example

        click.echo(env_example(), nl=False)
        return
    settings = _settings()
    click.echo(json.dumps(masked(settings), indent=2, sort_keys=True))


@main.command("apps")
def list_apps() -> None:
    """List the mounted applications with their prefixes and routes."""
    from kami.pipeline.app import create_app

    settings = _settings()
    specs = _load_apps_or_fail(settings)
    app = create_app(settings, specs)
    for spec in specs:
        click.secho(
            f"{spec.name}  {spec.prefix}  codes {spec.code_range.start}-{spec.code_range.stop - 1}", bold=True
        )
        for route in app.routes:
            if route.path.startswith(spec.prefix):
                methods = ",".join(sorted(getattr(route, "methods", set()) - {"OPTIONS", "HEAD"}))
                click.echo(f"  {methods:<18} {route.path}")


def _load_apps_or_fail(settings: Settings) -> Any:
    from kami.app_spec import AppLoadError, load_apps

    try:
        return load_apps(settings.app.apps)
    except AppLoadError as exc:
        _fail(str(exc))


def _migrate(settings: Settings, revision: str = "head") -> None:
    """Apply pending migrations, naming each as it runs; explain an unreachable database."""
    import logging
    import time

    from kami.cli.diagnostics import database_problem
    from kami.db.migrations import upgrade

    problem = None if settings.uses_embedded_database else database_problem(settings)
    if problem is not None:
        _fail(problem, code=1)

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
    started = time.perf_counter()
    try:
        upgrade(settings, revision)
    except Exception as exc:
        _fail(f"migration failed: {type(exc).__name__}: {exc}", code=1)
    finally:
        alembic_log.removeHandler(progress)
        alembic_log.setLevel(previous_level)
    click.echo(f"database schema is up to date ({time.perf_counter() - started:.1f} s)", err=True)


@main.command("reference")
@click.option(
    "--write",
    "folder",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Write configuration.md and codes.md into this folder (e.g. docs).",
)
@click.option("--check", is_flag=True, help="Exit 1 if the files in --write's folder are out of date.")
def reference_command(folder: str | None, check: bool) -> None:
    """The configuration and business-code references, generated from the code."""
    from pathlib import Path

    from kami.cli.reference import references, write_references

    generated = references()
    if folder is None:
        click.echo("\n".join(generated.values()))
        return
    target = Path(folder)
    if check:
        stale = [
            n
            for n, text in generated.items()
            if not (target / n).is_file() or (target / n).read_text() != text
        ]
        if stale:
            _fail(
                f"out of date in {target}: {', '.join(stale)} (run: kami reference --write {folder})", code=1
            )
        click.echo(f"{target}: up to date")
        return
    for path in write_references(target):
        click.echo(f"  wrote {path}")


@main.command("new-app")
@click.argument("name")
@click.option("--root", type=click.Path(file_okay=False, path_type=str), default=".", help="Project folder.")
def new_app_command(name: str, root: str) -> None:
    """Scaffold a working app under apps/NAME, with its migration and tests."""
    from pathlib import Path

    from kami.cli.scaffold import ScaffoldError, new_app

    try:
        written = new_app(name, Path(root).resolve())
    except ScaffoldError as exc:
        _fail(str(exc))
    for path in written:
        click.echo(f"  created {path}")
    click.secho(
        f"Mount it by adding apps.{name} to KAMI_APPS, then run: uv run pytest tests/apps/test_{name}.py",
        bold=True,
    )


@main.group("flags")
def flags() -> None:
    """Feature flags in the shared store (needs KAMI_REDIS_URL to reach running processes)."""


def _flag_store() -> Any:
    from kami.store.client import build_backend
    from kami.store.flags import FeatureFlags

    settings = _settings()
    if not settings.redis.url:
        click.secho(
            "kami: no KAMI_REDIS_URL: flags set here live only in this command", fg="yellow", err=True
        )
    return FeatureFlags(build_backend(settings))


def _run_flags(action: Any) -> Any:
    import anyio

    async def run() -> Any:
        store = _flag_store()
        try:
            return await action(store)
        finally:
            await store.backend.close()

    return anyio.run(run)


@flags.command("set")
@click.argument("name")
@click.option("--on/--off", "enabled", default=True, help="Globally on or off.")
@click.option("--app", "apps", multiple=True, help="Per-app override: APP=on|off (repeatable).")
@click.option(
    "--percentage", type=click.IntRange(0, 100), default=None, help="Roll out to this share of callers."
)
def flags_set(name: str, enabled: bool, apps: tuple[str, ...], percentage: int | None) -> None:
    """Create or replace a flag."""
    from kami.store.flags import Flag

    overrides: dict[str, bool] = {}
    for item in apps:
        app, _, value = item.partition("=")
        if value not in ("on", "off"):
            raise click.BadParameter(f"{item!r}: expected APP=on or APP=off", param_hint="--app")
        overrides[app] = value == "on"
    flag = Flag(enabled=enabled, apps=overrides, percentage=percentage)
    _run_flags(lambda store: store.set(name, flag))
    click.echo(f"{name}: {json.dumps(msgspec_to_builtins(flag))}")


@flags.command("get")
@click.argument("name")
def flags_get(name: str) -> None:
    """Show one flag (exit 1 if it does not exist)."""
    flag = _run_flags(lambda store: store.get(name))
    if flag is None:
        _fail(f"no flag named {name!r}", code=1)
    click.echo(json.dumps(msgspec_to_builtins(flag)))


@flags.command("delete")
@click.argument("name")
def flags_delete(name: str) -> None:
    """Remove a flag (it then reads as off)."""
    if not _run_flags(lambda store: store.delete(name)):
        _fail(f"no flag named {name!r}", code=1)
    click.echo(f"{name} deleted")


def msgspec_to_builtins(value: Any) -> Any:
    import msgspec

    return msgspec.to_builtins(value)


@main.group("db")
def db() -> None:
    """The one migration history of every app (apps/migrations). Apply it with `kami migrate`.

    Every command sees every app's models under apps/, mounted or not, and none asks a question.
    """


def _alembic() -> Any:
    from kami.db.migrations import alembic_commands

    return alembic_commands(_settings())


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
