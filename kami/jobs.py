"""Background jobs: a Redis-backed queue (SAQ) and a separate ``kami worker`` process.

Apps declare jobs in ``AppSpec.jobs`` as :class:`JobSpec` (retries with backoff, timeout, optional
cron schedule). Handlers enqueue with the ``jobs`` dependency; the enqueuing request's trace
context travels in the job and the job's span and log lines carry it. A job that fails on its last
attempt leaves a dead-letter record (``jobs:dead:{key}``, 30 days) and an error log line.

Without Redis (the embedded default) a job runs inside the web process, in the background, with
the same retries: there is no separate worker to reach.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import structlog
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from saq import CronJob, Job, Queue, Worker
from saq.job import Status
from saq.queue.redis import RedisQueue

from kami.observability.counters import counters
from kami.settings import Settings
from kami.store.backend import Backend

__all__ = [
    "DEAD_LETTER_TTL",
    "DeadLetter",
    "JobSpec",
    "Jobs",
    "build_worker",
    "collect",
    "job_name",
    "redis_queue",
]

log = structlog.get_logger("kami.jobs")
tracer = trace.get_tracer("kami.jobs")
DEAD_LETTER_TTL = 30 * 86400.0
QUEUE_NAME = "kami"
JobFunction = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class JobSpec:
    """``function(ctx, **kwargs)``: ``ctx["backend"]`` is the shared store backend, ``ctx["settings"]``
    the process's settings (for ``kami.data.session_scope``)."""

    function: JobFunction
    retries: int = 3
    retry_delay: float = 1.0
    timeout: int = 60
    cron: str | None = None


def job_name(app: str, function: JobFunction) -> str:
    return f"{app}.{function.__name__}"


class DeadLetter(msgspec.Struct):
    function: str
    key: str
    attempts: int
    error: str | None
    kwargs: dict[str, Any]
    failed_at: float


class Jobs:
    """What handlers use to enqueue: ``await jobs.enqueue("app-b.low_stock_report", threshold=5)``."""

    def __init__(
        self, specs: dict[str, JobSpec], backend: Backend, queue: Queue | None, settings: Settings
    ) -> None:
        self.specs = specs
        self.backend = backend
        self.settings = settings
        self.queue = queue
        self._background: set[asyncio.Task[None]] = set()

    async def enqueue(self, name: str, **kwargs: Any) -> str:
        spec = self.specs.get(name)
        if spec is None:
            raise LookupError(f"no job named {name!r}")
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # the enqueuing request's trace travels with the job
        job = Job(
            function=name,
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
            task = asyncio.create_task(self._run_here(spec, job))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return job.key

    async def _run_here(self, spec: JobSpec, job: Job) -> None:
        """The embedded default: run in this process, with the same retries and dead letters."""
        ctx: dict[str, Any] = {"backend": self.backend, "settings": self.settings, "job": job}
        for attempt in range(1, spec.retries + 1):
            job.attempts = attempt
            try:
                with _job_span(job):
                    await asyncio.wait_for(spec.function(ctx, **(job.kwargs or {})), spec.timeout)
                return
            except Exception as exc:
                job.error = repr(exc)
                if attempt < spec.retries:
                    await asyncio.sleep(spec.retry_delay * 2 ** (attempt - 1))
        await _dead_letter(self.backend, job)

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
        parent = propagate.extract((self.job.meta or {}).get("trace", {}))
        self.token = otel_context.attach(parent)
        self.span = tracer.start_span(f"job {self.job.function}", kind=trace.SpanKind.CONSUMER)
        self.span.set_attribute("kami.job.key", self.job.key)
        self.span.set_attribute("kami.job.attempt", self.job.attempts)
        self._span_token = otel_context.attach(trace.set_span_in_context(self.span))
        structlog.contextvars.bind_contextvars(job=self.job.function, job_key=self.job.key)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc is not None:
            self.span.record_exception(exc)
            self.span.set_status(trace.Status(trace.StatusCode.ERROR))
        self.span.end()
        otel_context.detach(self._span_token)
        if self.token is not None:
            otel_context.detach(self.token)  # type: ignore[arg-type]
        structlog.contextvars.unbind_contextvars("job", "job_key")


async def _dead_letter(backend: Backend, job: Job) -> None:
    record = DeadLetter(job.function, job.key, job.attempts, job.error, dict(job.kwargs or {}), time.time())
    await backend.set(f"jobs:dead:{job.key}", msgspec.json.encode(record), ttl=DEAD_LETTER_TTL)
    counters.increment("jobs_dead", function=job.function)
    log.error(
        "job failed for good", function=job.function, key=job.key, attempts=job.attempts, error=job.error
    )


def _wrap(spec: JobSpec, name: str) -> Callable[..., Awaitable[Any]]:
    async def run(ctx: dict[str, Any], **kwargs: Any) -> Any:
        with _job_span(ctx["job"]):
            return await spec.function(ctx, **kwargs)

    run.__name__ = run.__qualname__ = name
    return run


def build_worker(
    specs: dict[str, JobSpec],
    backend: Backend,
    queue: Queue,
    settings: Settings,
    *,
    burst: bool = False,
    concurrency: int = 10,
    grace: int = 30,
) -> Worker[Any]:
    """The SAQ worker for every declared job and cron schedule. On SIGTERM it stops taking jobs and
    gives running ones ``grace`` seconds (idle pollers also wait that long: SAQ's behaviour)."""
    functions = [(name, _wrap(spec, name)) for name, spec in specs.items()]
    crons = [
        CronJob(_wrap(spec, name), cron=spec.cron, retries=spec.retries, timeout=spec.timeout)
        for name, spec in specs.items()
        if spec.cron
    ]

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["backend"] = backend
        ctx["settings"] = settings

    async def after_process(ctx: dict[str, Any]) -> None:
        job: Job | None = ctx.get("job")
        if job is not None and job.status == Status.FAILED:
            await _dead_letter(backend, job)

    return Worker(
        queue,
        functions=functions,
        cron_jobs=crons,
        startup=startup,
        after_process=after_process,
        burst=burst,
        dequeue_timeout=1.0 if burst else 0.0,
        concurrency=concurrency,
        shutdown_grace_period_s=grace,
    )


def redis_queue(client: Any) -> Queue:
    return RedisQueue(client, name=QUEUE_NAME)


def collect(apps: Sequence[Any]) -> dict[str, JobSpec]:
    """Every job the mounted apps declare, by its full name (``app-b.low_stock_report``)."""
    return {job_name(app.name, spec.function): spec for app in apps for spec in app.jobs}
