"""Background jobs: a Redis-backed queue (SAQ) and a separate ``kami worker`` process.

Apps declare jobs in ``AppSpec.jobs`` as :class:`JobSpec` (retries with backoff, timeout, optional
cron schedule). A job function takes a :class:`JobContext` (its app's store, the settings) and its
keyword arguments. Handlers enqueue with the ``jobs`` dependency, naming the function itself
(``await jobs.enqueue(low_stock_report, threshold=5)``); the enqueuing request's trace
context travels in the job and the job's span and log lines carry it. A job that fails on its last
attempt leaves a dead-letter record (``jobs:dead:{key}``, 30 days) and an error log line.

Without Redis (the embedded default) a job runs inside the web process, in the background, with
the same retries: there is no separate worker to reach.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import structlog
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from saq import CronJob, Job, Queue, Worker
from saq.job import Status
from saq.queue.redis import RedisQueue
from saq.types import PartialTimersDict
from sqlalchemy.ext.asyncio import AsyncSession

from kami.jobs import dead_letters
from kami.routes import PLATFORM_APP
from kami.settings import Settings
from kami.store.backend import Backend
from kami.store.namespace import Store

__all__ = [
    "JobContext",
    "JobSpec",
    "Jobs",
    "RegisteredJob",
    "SessionFactory",
    "build_worker",
    "collect",
    "redis_queue",
]

log = structlog.get_logger("kami.jobs")
tracer = trace.get_tracer("kami.jobs")
QUEUE_NAME = "kami"
JobFunction = Callable[..., Awaitable[Any]]
SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]


@dataclass(frozen=True)
class JobContext:
    """What a job function receives first: its own app's namespace in the shared store, the
    process's settings, a database session on the process's one pool (``async with
    context.database() as session:``; commit through services, as requests do), and which run this is."""

    store: Store
    settings: Settings
    database: SessionFactory
    key: str
    attempt: int


@dataclass(frozen=True)
class JobSpec:
    """``function(context: JobContext, **kwargs)``, retried ``retries`` times with backoff."""

    function: JobFunction
    retries: int = 3
    retry_delay: float = 1.0
    timeout: int = 60
    cron: str | None = None


@dataclass(frozen=True)
class RegisteredJob:
    """A job of a mounted app: its queue name is ``{app}.{function}``."""

    app: str
    spec: JobSpec

    @property
    def name(self) -> str:
        return f"{self.app}.{self.spec.function.__name__}"

    def context(self, backend: Backend, settings: Settings, database: SessionFactory, job: Job) -> JobContext:
        return JobContext(Store(backend, self.app), settings, database, job.key, job.attempts)


class Jobs:
    """What handlers use to enqueue: ``await jobs.enqueue(low_stock_report, threshold=5)``."""

    def __init__(
        self,
        registered: dict[str, RegisteredJob],
        backend: Backend,
        queue: Queue | None,
        settings: Settings,
        database: SessionFactory,
    ) -> None:
        self.registered = registered
        self.by_function = {job.spec.function: job for job in registered.values()}
        self.backend = backend
        self.settings = settings
        self.database = database
        self.queue = queue
        self._background: set[asyncio.Task[None]] = set()

    async def enqueue(self, function: JobFunction, **kwargs: Any) -> str:
        """Queue a run of ``function`` (a job some mounted app declares); its key."""
        registered = self.by_function.get(function)
        if registered is None:
            raise LookupError(f"{function.__qualname__} is not a job of a mounted app (AppSpec.jobs)")
        return await self._submit(registered, kwargs)

    async def replay(self, key: str) -> str | None:
        """Queue a dead letter's job again with its arguments (and forget the letter); the new run's
        key, or None when no such letter is kept or its job is no longer declared."""
        letter = await dead_letters.take(self.backend, key)
        if letter is None:
            return None
        registered = self.registered.get(letter.function)
        if registered is None:
            await dead_letters.keep_letter(self.backend, letter)  # not ours to drop: keep it
            return None
        return await self._submit(registered, letter.kwargs)

    async def _submit(self, registered: RegisteredJob, kwargs: dict[str, Any]) -> str:
        spec = registered.spec
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # the enqueuing request's trace travels with the job
        job = Job(
            function=registered.name,
            kwargs=kwargs,
            retries=spec.retries,
            retry_delay=spec.retry_delay,
            retry_backoff=True,
            timeout=spec.timeout,
            meta={"trace": carrier},
        )
        if self.queue is not None:
            await self.queue.enqueue(job)
        else:
            task = asyncio.create_task(self._run_here(registered, job))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return job.key

    async def _run_here(self, registered: RegisteredJob, job: Job) -> None:
        """The embedded default: run in this process, with the same retries and dead letters."""
        spec = registered.spec
        for attempt in range(1, spec.retries + 1):
            job.attempts = attempt
            context = registered.context(self.backend, self.settings, self.database, job)
            try:
                with _job_span(job):
                    await asyncio.wait_for(spec.function(context, **(job.kwargs or {})), spec.timeout)
                return
            except Exception as exc:
                job.error = repr(exc)
                if attempt < spec.retries:
                    await asyncio.sleep(spec.retry_delay * 2 ** (attempt - 1))
        await dead_letters.keep(self.backend, job)

    async def drain(self) -> None:
        """Wait for jobs running in this process (shutdown, tests)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


class _job_span:  # noqa: N801 - used as a context manager, reads as a function
    """A consumer span for the job, child of the enqueuing request's span."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.token: object | None = None
        self.span: Any = None

    def __enter__(self) -> None:
        self.started = time.perf_counter()
        parent = propagate.extract((self.job.meta or {}).get("trace", {}))
        self.token = otel_context.attach(parent)
        self.span = tracer.start_span(f"job {self.job.function}", kind=trace.SpanKind.CONSUMER)
        self.span.set_attribute("kami.job.key", self.job.key)
        self.span.set_attribute("kami.job.attempt", self.job.attempts)
        self._span_token = otel_context.attach(trace.set_span_in_context(self.span))
        structlog.contextvars.bind_contextvars(job=self.job.function, job_key=self.job.key)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        # Imported here: prometheus_client picks its multiprocess storage when first imported, after
        # `kami serve` has prepared it (kami.observability.prometheus_dir).
        from kami.observability.metrics import record_job

        outcome = "succeeded" if exc is None else "failed"
        record_job(self.job.function, outcome, time.perf_counter() - self.started)
        if exc is not None:
            self.span.record_exception(exc)
            self.span.set_status(trace.Status(trace.StatusCode.ERROR))
        self.span.end()
        otel_context.detach(self._span_token)
        if self.token is not None:
            otel_context.detach(self.token)  # type: ignore[arg-type]
        structlog.contextvars.unbind_contextvars("job", "job_key")


def _wrap(
    registered: RegisteredJob, backend: Backend, settings: Settings, database: SessionFactory
) -> Callable[..., Awaitable[Any]]:
    """SAQ calls ``run(ctx, **kwargs)`` with its own context dict; the job gets a JobContext."""

    async def run(ctx: dict[str, Any], **kwargs: Any) -> Any:
        job: Job = ctx["job"]
        context = registered.context(backend, settings, database, job)
        with _job_span(job):
            return await registered.spec.function(context, **kwargs)

    run.__name__ = run.__qualname__ = registered.name
    return run


_QUICK_TIMERS: PartialTimersDict = {"schedule": 1, "abort": 1, "sweep": 5, "worker_info": 5}


def build_worker(
    registered: dict[str, RegisteredJob],
    backend: Backend,
    queue: Queue,
    settings: Settings,
    database: SessionFactory,
    *,
    burst: bool = False,
    concurrency: int = 10,
    grace: int = 30,
) -> Worker[Any]:
    """The SAQ worker for every declared job and cron schedule. On SIGTERM it stops taking jobs and
    gives running ones ``grace`` seconds. SAQ's stop also waits for its idle loops, so each must come
    round quickly: a pop gives up after 1 s, the sweep and worker-info loops turn every 5 s (by
    default a pop blocks for ever and the sweep sleeps 60 s: an idle worker took the whole grace)."""
    functions = [(name, _wrap(job, backend, settings, database)) for name, job in registered.items()]
    crons = [
        CronJob(
            _wrap(job, backend, settings, database),
            cron=job.spec.cron,
            retries=job.spec.retries,
            timeout=job.spec.timeout,
        )
        for job in registered.values()
        if job.spec.cron
    ]

    async def after_process(ctx: dict[str, Any]) -> None:
        job: Job | None = ctx.get("job")
        if job is not None and job.status == Status.FAILED:
            await dead_letters.keep(backend, job)

    return Worker(
        queue,
        functions=functions,
        cron_jobs=crons,
        after_process=after_process,
        burst=burst,
        dequeue_timeout=1.0,
        timers=_QUICK_TIMERS,
        concurrency=concurrency,
        shutdown_grace_period_s=grace,
    )


def redis_queue(client: Any) -> Queue:
    return RedisQueue(client, name=QUEUE_NAME)


def collect(apps: Sequence[Any], platform: Sequence[JobSpec] = ()) -> dict[str, RegisteredJob]:
    """Every job the mounted apps declare and kami's own (``platform``), by queue name
    (``app-b.low_stock_report``, ``kami.purge_idempotency_records``)."""
    jobs = [RegisteredJob(app.name, spec) for app in apps for spec in app.jobs]
    jobs += [RegisteredJob(PLATFORM_APP, spec) for spec in platform]
    return {job.name: job for job in jobs}
