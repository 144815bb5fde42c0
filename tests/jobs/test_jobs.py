"""Background jobs: in process (embedded), through Redis with a real ``kami worker``, retries,
dead letters and the enqueuing request's trace carried into the job."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.testing import TestClient
from redis.asyncio import Redis

from kami import ApiResponse, AppSpec, success
from kami.db.config import build_sqlalchemy_config
from kami.envelope import current_trace_id
from kami.jobs import DeadLetter, JobContext, Jobs, JobSpec, build_worker, collect, redis_queue
from kami.pipeline.app import create_app
from kami.settings import Settings
from kami.store.backend import RedisBackend
from kami.store.pipelined import PipelinedRedis
from tests.conftest import service_url
from tests.support.backends import reset_schema
from tests.support.databases import settings_for
from tests.support.redis import forget
from tests.support.servers import kami_env
from tests.support.tokens import session_headers

KEY = "j" * 40


def wait_for_report(client: TestClient, seconds: float = 30) -> dict[str, Any]:  # type: ignore[type-arg]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = client.get("/app-b/v1/reports/low-stock", headers=session_headers(client))
        if response.status_code == 200:
            return dict(response.json()["data"])
        time.sleep(0.2)
    raise AssertionError("no report was written")


def add_products(client: TestClient) -> None:  # type: ignore[type-arg]
    for name, stock in (("Plenty", 50), ("Few", 2), ("None left", 0)):
        client.post(
            "/app-b/v1/products",
            json={"name": name, "price": "1.00", "stock": stock},
            headers=session_headers(client),
        )


def test_embedded_default_runs_jobs_in_process(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(KAMI_SECRET_KEY=KEY)
    with TestClient(create_app(settings)) as client:
        add_products(client)
        queued = client.post(
            "/app-b/v1/reports/low-stock", params={"threshold": 5}, headers=session_headers(client)
        )
        assert queued.status_code == 202
        report = wait_for_report(client)
    assert [p["name"] for p in report["products"]] == ["None left", "Few"]
    generated = datetime.fromisoformat(report["generated_at"])  # ISO 8601 like every time on the wire
    assert generated.tzinfo is not None
    assert abs(datetime.now(UTC) - generated) < timedelta(minutes=1)


def test_a_worker_process_runs_queued_jobs(tmp_path: Path) -> None:
    import subprocess
    import sys

    redis_url = service_url("redis")
    forget(redis_url, "saq:kami:*", "app-b:report:*", "jobs:dead:*")
    database = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    settings = settings_for(database, tmp_path, KAMI_REDIS_URL=redis_url, KAMI_SECRET_KEY=KEY)
    reset_schema(settings)
    env = kami_env(
        tmp_path,
        KAMI_DATABASE_URL=database,
        KAMI_REDIS_URL=redis_url,
        KAMI_DATABASE_AUTO_MIGRATE="false",
        KAMI_SERVER_GRACEFUL_TIMEOUT="2",
    )
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "kami", "worker"], env=env, stdout=log, stderr=log)
    try:
        with TestClient(create_app(settings)) as client:
            add_products(client)
            assert (
                client.post("/app-b/v1/reports/low-stock", headers=session_headers(client)).status_code == 202
            )
            report = wait_for_report(client)
            assert [p["name"] for p in report["products"]] == ["None left", "Few"]
    finally:
        worker.terminate()
        worker.wait(timeout=40)
        log.close()
    assert worker.returncode in (0, -15)


attempts: list[str] = []
seen_traces: list[str] = []


async def always_fails(context: JobContext) -> None:
    attempts.append(context.key)
    raise RuntimeError("the mail server said no")


async def remembers_trace(context: JobContext) -> None:
    seen_traces.append(current_trace_id())


@get("/enqueue/{name:str}", summary="e", description="e")
async def enqueue(name: FromPath[str], jobs: NamedDependency[Jobs]) -> ApiResponse[str]:
    await jobs.enqueue({"always_fails": always_fails, "remembers_trace": remembers_trace}[name])
    return success(current_trace_id())


SPEC = AppSpec(
    name="jobbed",
    prefix="/jobbed",
    code_range=range(94000, 94100),
    route_handlers=[enqueue],
    jobs=[JobSpec(always_fails, retries=3, retry_delay=0.01, timeout=5), JobSpec(remembers_trace, timeout=5)],
)


def test_retries_dead_letters_and_trace_context(make_settings: Callable[..., Settings]) -> None:
    redis_url = service_url("redis")
    forget(redis_url, "saq:kami:*", "app-b:report:*", "jobs:dead:*")
    attempts.clear()
    seen_traces.clear()
    settings = make_settings(KAMI_REDIS_URL=redis_url)
    with TestClient(create_app(settings, [SPEC])) as client:
        request_trace = client.get("/jobbed/enqueue/remembers_trace").json()["data"]
        client.get("/jobbed/enqueue/always_fails")

    async def work() -> DeadLetter:
        redis = Redis.from_url(redis_url)
        backend = RedisBackend(PipelinedRedis.from_url(redis_url))
        queue = redis_queue(redis)
        database = build_sqlalchemy_config(settings)
        worker = build_worker(collect([SPEC]), backend, queue, settings, database.get_session, grace=1)
        raw = None
        async with anyio.create_task_group() as group:
            group.start_soon(worker.start)
            with anyio.fail_after(30):
                while raw is None:
                    await anyio.sleep(0.1)
                    if len(attempts) >= 3 and seen_traces:
                        raw = await backend.get(f"jobs:dead:{attempts[0]}")
            await worker.stop()
        await redis.aclose()
        await database.get_engine().dispose()
        return msgspec.json.decode(raw, type=DeadLetter)

    dead = anyio.run(work)
    assert len(attempts) == 3
    assert dead.function == "jobbed.always_fails"
    assert "mail server" in (dead.error or "")
    assert seen_traces == [request_trace]
