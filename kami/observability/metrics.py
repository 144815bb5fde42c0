"""Prometheus metrics at ``/metrics``, correct across Granian workers.

``kami serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder (wiped at start, see
:mod:`kami.observability.prometheus_dir`) so every worker
writes its samples there and any worker's scrape reports the sum. Without it (tests, a single
process) the default registry is used.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Gauge,
    Histogram,
)

from kami.observability.side_server import metrics_answer
from kami.observability.slo import REQUEST_DURATION_BUCKETS
from kami.overrides.pool_internals import max_overflow
from kami.routes import METRICS_PATH, PLATFORM_TAG

__all__ = [
    "DB_STATEMENT_SECONDS",
    "EVENTS",
    "IN_FLIGHT",
    "JOBS",
    "JOB_SECONDS",
    "POOL",
    "READY",
    "REDIS_STORE",
    "REQUESTS",
    "REQUEST_SECONDS",
    "metrics_endpoint",
    "record_job",
    "record_pool",
    "record_redis_store",
    "record_request",
    "record_statement",
    "series",
]

REQUESTS = Counter("kami_requests", "HTTP requests answered.", ["method", "route", "status", "app"])
REQUEST_SECONDS = Histogram(
    "kami_request_duration_seconds",
    "Time to answer, by route.",
    ["method", "route", "app"],
    buckets=REQUEST_DURATION_BUCKETS,  # an SLO's latency threshold is one of them
)
DB_STATEMENT_SECONDS = Histogram(
    "kami_db_query_duration_seconds",
    "Time the database took to answer a statement, by kind (select, insert, update, delete, other).",
    ["kind"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
IN_FLIGHT = Gauge("kami_requests_in_flight", "Requests being answered.", multiprocess_mode="livesum")
POOL = Gauge("kami_db_pool_connections", "Database pool connections.", ["state"], multiprocess_mode="livesum")
REDIS_STORE = Gauge(
    "kami_redis_store",
    "The store's Redis connection (cache, limits, locks, idempotency): open connections, commands "
    "waiting for a reply, and how many may wait.",
    ["state"],
    multiprocess_mode="livesum",
)
READY = Gauge(
    "kami_ready",
    "1 while every worker's /health/ready would answer 200 (each checks itself every 5 s), else 0.",
    multiprocess_mode="livemin",
)
JOB_SECONDS = Histogram(
    "kami_job_duration_seconds",
    "Time a job run took, by job and outcome (succeeded, failed); a failed run may be retried.",
    ["function", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900),
)
JOBS = Gauge(
    "kami_jobs",
    "Jobs by state: queued (waiting for a worker), active (running), scheduled (retries and delays "
    "waiting for their time) and dead (dead letters kept). Sampled by `kami worker` every 5 s.",
    ["state"],
    multiprocess_mode="max",
)
EVENTS = Counter(
    "kami_events", "Platform and business events (cache hits, rejections, orders...).", ["event", "label"]
)


_SERIES_KEPT = 8192  # label sets whose series are kept; routes are templates, only odd methods add more
_kept: dict[tuple[Any, tuple[str, ...]], Any] = {}


def series(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, looked up once per label set and kept: ``labels()`` validates and
    locks on every call, a fifth of the metrics' cost per request."""
    key = (metric, labels)
    found = _kept.get(key)
    if found is None:
        found = metric.labels(*labels)
        if len(_kept) < _SERIES_KEPT:
            _kept[key] = found
    return found


def record_request(method: str, route: str, status: int, app: str, seconds: float) -> None:
    series(REQUESTS, method, route, str(status), app).inc()
    series(REQUEST_SECONDS, method, route, app).observe(seconds)


def record_statement(kind: str, seconds: float) -> None:
    """One statement's duration (kami.db.statement_timing reports here)."""
    series(DB_STATEMENT_SECONDS, kind).observe(seconds)


def record_job(function: str, outcome: str, seconds: float) -> None:
    series(JOB_SECONDS, function, outcome).observe(seconds)


def record_pool(pool: Any) -> None:
    """Sample the pool's size, checked-out and overflow connections and its capacity (size plus the
    overflow it may open), all cheap attribute reads."""
    for state, read in (("size", "size"), ("checked_out", "checkedout"), ("overflow", "overflow")):
        method = getattr(pool, read, None)
        if method is not None:
            POOL.labels(state).set(max(int(method()), 0))
    size = getattr(pool, "size", None)
    if size is not None:
        POOL.labels("capacity").set(int(size()) + max_overflow(pool))


def record_redis_store(connected: bool, in_flight: int, limit: int) -> None:
    """The pipelined connection that carries the store's traffic (what redis-py's pool carries, the
    job queue, is measured by the queue's own metrics)."""
    REDIS_STORE.labels("open").set(int(connected))
    REDIS_STORE.labels("in_flight").set(in_flight)
    REDIS_STORE.labels("limit").set(limit)


# Litestar appends the response's charset to a text/* media type: given prometheus_client's own
# "...; charset=utf-8" too, the header named it twice.
EXPOSITION_MEDIA_TYPE = "; ".join(p for p in CONTENT_TYPE_LATEST.split("; ") if not p.startswith("charset="))


@get(
    METRICS_PATH,
    summary="Prometheus metrics",
    description="Text exposition format; the sum over every worker of this instance. Outside "
    "production only: production serves it on KAMI_SERVER_METRICS_PORT, never on the public port.",
    include_in_schema=True,
    tags=[PLATFORM_TAG],
    media_type=EXPOSITION_MEDIA_TYPE,
)
async def metrics_endpoint() -> Response[bytes]:
    _, _, body = metrics_answer()
    return Response(body, media_type=EXPOSITION_MEDIA_TYPE)
