"""``/health`` (every component), ``/health/live`` (the process only) and ``/health/ready`` (dependencies).

Each check has a short timeout, so a hung dependency makes the probe answer 503 instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Mapping
from typing import Any, Literal

import msgspec
from litestar import Controller, Response, get
from sqlalchemy import text

from kami.codes import Codes
from kami.db.migrations import current_revision
from kami.envelope import ApiResponse, error, responses, success
from kami.observability.metrics import READY
from kami.pipeline.runtime import HealthCheck, Runtime, RuntimeDependency, is_draining, runtime_from
from kami.routes import HEALTH_PATH, PLATFORM_TAG

__all__ = [
    "ComponentHealth",
    "HealthController",
    "HealthReport",
    "check_database",
    "check_migrations",
    "check_redis",
    "check_telemetry",
    "health_checks",
    "readiness",
    "ready_checks",
    "run_checks",
    "watch_readiness",
]

Status = Literal["ok", "degraded", "down", "disabled"]
CHECK_TIMEOUT = 2.0
READINESS_SECONDS = 5.0  # how often each worker refreshes kami_ready on its own


class ComponentHealth(msgspec.Struct, kw_only=True):
    status: Status
    latency_ms: float = 0.0
    detail: str | None = None


class Liveness(msgspec.Struct, kw_only=True):
    status: Literal["alive"] = "alive"


class HealthReport(msgspec.Struct, kw_only=True):
    status: Literal["ok", "degraded", "down"]
    components: dict[str, ComponentHealth]


async def _timed(probe: Awaitable[str | None]) -> ComponentHealth:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(probe, CHECK_TIMEOUT)
    except TimeoutError:
        return ComponentHealth(status="down", latency_ms=CHECK_TIMEOUT * 1000, detail="timed out")
    except Exception as exc:
        return ComponentHealth(status="down", detail=type(exc).__name__)
    return ComponentHealth(
        status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2), detail=detail
    )


async def check_database(runtime: Runtime) -> ComponentHealth:
    engine = runtime.engine

    async def probe() -> str | None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return None

    return await _timed(probe())


async def check_migrations(runtime: Runtime) -> ComponentHealth:
    engine = runtime.engine
    expected = runtime.schema_head

    async def probe() -> str | None:
        async with engine.connect() as connection:
            current = await current_revision(connection)
        if current != expected:
            raise LookupError(f"schema at {current}, expected {expected}")
        return current

    result = await _timed(probe())
    if result.status == "down" and result.detail == "LookupError":
        result.detail = "migrations not applied"
    return result


async def check_redis(runtime: Runtime) -> ComponentHealth:
    async def probe() -> str | None:
        await runtime.backend.ping()
        return None

    return await _timed(probe())


async def check_telemetry(runtime: Runtime) -> ComponentHealth:
    """Never "down": a collector outage degrades observability, not the service."""
    status, detail = runtime.telemetry.state
    return ComponentHealth(status=status, detail=detail)


def health_checks(with_redis: bool) -> dict[str, HealthCheck]:
    """``/health``: every component (Redis only when one is configured)."""
    checks: dict[str, HealthCheck] = {"database": check_database}
    if with_redis:
        checks["redis"] = check_redis
    return checks | {"telemetry": check_telemetry}


def ready_checks(with_redis: bool) -> dict[str, HealthCheck]:
    """``/health/ready``: what serving needs (a telemetry outage never makes an instance unready)."""
    checks: dict[str, HealthCheck] = {"database": check_database, "migrations": check_migrations}
    if with_redis:
        checks["redis"] = check_redis
    return checks


async def run_checks(runtime: Runtime, checks: Mapping[str, HealthCheck]) -> HealthReport:
    names = list(checks)
    results = await asyncio.gather(*(checks[name](runtime) for name in names))
    components = dict(zip(names, results, strict=True))
    statuses = {c.status for c in results}
    overall: Literal["ok", "degraded", "down"] = (
        "down" if "down" in statuses else "degraded" if "degraded" in statuses else "ok"
    )
    return HealthReport(status=overall, components=components)


def _answer(report: HealthReport) -> Response[Any]:
    if report.status == "down":
        return Response(error(Codes.SERVICE_UNAVAILABLE, "Unhealthy", data=report), status_code=503)
    return Response(success(report, "Healthy" if report.status == "ok" else "Degraded"), status_code=200)


class HealthController(Controller):
    path = HEALTH_PATH
    tags = [PLATFORM_TAG]
    include_in_schema = True

    @get(
        "/",
        summary="Health of every component",
        description="Database, Redis (when configured) and telemetry exporter, each with a short timeout. "
        "200 and code 0 when all are healthy (or only degraded), 503 with 5004 otherwise.",
        responses=responses(Codes.SERVICE_UNAVAILABLE),
    )
    async def health(self, kami_runtime: RuntimeDependency) -> Response[ApiResponse[HealthReport]]:
        runtime = runtime_from(kami_runtime)
        return _answer(await run_checks(runtime, runtime.health_checks))

    @get(
        "/live",
        summary="Liveness probe",
        description="Answers 200 while the process can serve requests; never touches a dependency.",
    )
    async def live(self) -> ApiResponse[Liveness]:
        return success(Liveness())

    @get(
        "/ready",
        summary="Readiness probe",
        description="200 when the database and Redis answer and the schema is migrated; 503 otherwise, and "
        "503 as soon as the process starts shutting down so load balancers stop sending traffic.",
        responses=responses(Codes.SERVICE_UNAVAILABLE),
    )
    async def ready(self, kami_runtime: RuntimeDependency) -> Response[ApiResponse[HealthReport]]:
        return _answer(await readiness(runtime_from(kami_runtime)))


async def readiness(runtime: Runtime) -> HealthReport:
    """What ``/health/ready`` answers, also written to ``kami_ready`` for this worker."""
    if is_draining():
        report = HealthReport(
            status="down", components={"process": ComponentHealth(status="down", detail="draining")}
        )
    else:
        report = await run_checks(runtime, runtime.ready_checks)
    READY.set(0 if report.status == "down" else 1)
    return report


async def watch_readiness(runtime: Runtime, stop: asyncio.Event, every: float = READINESS_SECONDS) -> None:
    """Keep ``kami_ready`` true for this worker whether or not anything probes it: under Compose and
    Swarm the health check calls ``/health/live`` only, and a worker never asked kept the gauge (the
    minimum over workers) at 0 while the service was ready. Runs until ``stop`` is set, and is never
    cancelled in the middle of a check: a check cancelled mid-query left its SQLite connection holding
    a lock ("database is locked" for the next writer). Each check is bounded by ``CHECK_TIMEOUT``."""
    while not stop.is_set():
        await readiness(runtime)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
