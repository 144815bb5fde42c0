"""``kami serve`` (the web server) and ``kami worker`` (background jobs)."""

from __future__ import annotations

import asyncio
import os

import anyio
import click
import structlog

from kami.accounts.slice import with_accounts
from kami.cli.database import apply_migrations
from kami.cli.diagnostics import redis_problem, unreachable_services
from kami.cli.loading import apps_or_fail
from kami.cli.output import EXIT_FAILED, fail, settings_or_fail
from kami.cli.serving import serve as serve_forever
from kami.db.config import build_sqlalchemy_config
from kami.jobs import PLATFORM_JOBS, build_worker, collect, redis_queue
from kami.jobs.monitor import WorkerMonitor
from kami.observability.logging import configure_logging
from kami.observability.prometheus_dir import prepare_multiprocess_dir
from kami.settings import SettingsError, get_settings
from kami.store.client import build_backend, build_redis

__all__ = ["serve", "worker"]

log = structlog.get_logger("kami.cli.serve")


@click.command()
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
    settings = settings_or_fail()
    try:
        settings.worker_count(workers)
    except SettingsError as exc:
        fail(str(exc))
    # Before the web stack imports prometheus_client: it picks its multiprocess storage at import time
    # (nothing this module imports loads it).
    prepare_multiprocess_dir(settings.app.data_dir)
    configure_logging(settings)  # a server's every line is structured, from here to the drain
    apps_or_fail(settings)
    if migrate or settings.should_auto_migrate:
        apply_migrations(settings, narrate=False)
    for problem in unreachable_services(settings):
        log.warning(f"{problem}; serving anyway: /health/ready answers 503 until it answers")
    # Workers must not race each other to migrate: the parent did it (or the operator's job does).
    os.environ["KAMI_DATABASE_AUTO_MIGRATE"] = "false"
    get_settings.cache_clear()
    serve_forever(settings, host=host, port=port, workers=workers)


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Jobs run at once (default KAMI_JOBS_CONCURRENCY).",
)
def worker(concurrency: int | None) -> None:
    """Run background jobs (and their cron schedules) from the shared Redis queue. On SIGTERM it takes
    no new job and gives running ones as long as the longest job's timeout."""
    settings = settings_or_fail()
    specs = apps_or_fail(settings)
    client = build_redis(settings)
    if client is None:
        fail("kami worker needs KAMI_REDIS_URL (without Redis, jobs run inside the web process)")
    problem = redis_problem(settings)
    if problem is not None:
        fail(problem, code=EXIT_FAILED)
    configure_logging(settings, settings.app.name + "-worker")
    jobs = collect(with_accounts(specs), PLATFORM_JOBS)
    grace = max(job.spec.timeout for job in jobs.values())
    log.info("kami worker started", jobs=sorted(jobs), grace_seconds=grace)

    async def run() -> None:
        queue = redis_queue(client)
        backend = build_backend(settings)
        database = build_sqlalchemy_config(settings)  # the worker's one pool, for every job it runs
        monitor = WorkerMonitor(queue, backend)
        if settings.jobs.port:
            monitor.serve(settings.server.host, settings.jobs.port)
        sampler = asyncio.create_task(monitor.sample_forever())
        try:
            await build_worker(
                jobs,
                backend,
                queue,
                settings,
                database.get_session,
                concurrency=concurrency or settings.jobs.concurrency,
                grace=grace,
            ).start()
        finally:
            sampler.cancel()
            monitor.close()
            await database.get_engine().dispose()

    anyio.run(run)
