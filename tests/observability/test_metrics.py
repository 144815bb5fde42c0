"""``/metrics`` after traffic across 2 Granian workers reports the total of both."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from kami.settings import Settings
from tests.conftest import service_url
from tests.support.servers import free_port, kami_env, run_kami

REQUESTS = 40


def sample(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_sum_every_worker(tmp_path: Path) -> None:
    # Several workers need the shared store; its rate-limit windows are shared with other tests.
    env = kami_env(tmp_path, KAMI_REDIS_URL=service_url("redis"), KAMI_RATELIMIT_DEFAULT="100000/minute")
    with run_kami(env, workers=2) as kami, httpx.Client(base_url=kami.url) as client:
        for sent in range(REQUESTS):  # new connections spread over both workers
            if sent == REQUESTS // 2:
                time.sleep(1.1)  # connection gauges are sampled at most once a second per worker
            assert client.get("/app-b/v1/products", headers={"Connection": "close"}).status_code == 200
        client.get("/no/such/route", headers={"Connection": "close"})
        scrapes = [client.get("/metrics", headers={"Connection": "close"}).text for _ in range(4)]
    for text in scrapes:
        assert (
            sample(text, "kami_requests_total", route="/app-b/v1/products", status="200", app="app-b")
            == REQUESTS
        )
        assert sample(text, "kami_requests_total", route="unmatched route", status="404") == 1
        assert sample(text, "kami_request_duration_seconds_count", route="/app-b/v1/products") == REQUESTS
        assert re.search(r'^kami_db_pool_connections\{state="size"\}', text, re.M)
        # the store's one pipelined connection per worker carries the cache traffic of these requests
        assert sample(text, "kami_redis_store", state="open") >= 1
        assert sample(text, "kami_redis_store", state="limit") >= 10_000
    assert (
        len({p.name.split("_")[-1] for p in (tmp_path / "data" / "prometheus").glob("*.db")}) >= 2
    )  # 2 writers


def test_ready_reads_one_on_every_worker_that_nothing_probed(tmp_path: Path) -> None:
    """Compose and Swarm check ``/health/live`` only: ``kami_ready`` (the minimum over the workers)
    must still read 1 once every worker is ready, without a single ``/health/ready``."""
    env = kami_env(tmp_path, KAMI_REDIS_URL=service_url("redis"))
    with run_kami(env, workers=2) as kami, httpx.Client(base_url=kami.url) as client:
        deadline, ready = time.monotonic() + 15, None
        while time.monotonic() < deadline:
            text = client.get("/metrics", headers={"Connection": "close"}).text
            found = re.search(r"^kami_ready (\S+)$", text, re.M)
            ready = float(found.group(1)) if found else None
            if ready == 1.0:
                break
            time.sleep(0.2)
        access = [line for line in kami.output().splitlines() if "/health/ready" in line]
    assert ready == 1.0, f"kami_ready read {ready}"
    assert not access, "something probed /health/ready"


def test_production_serves_metrics_only_on_their_own_port(tmp_path: Path, mysql_at_head: Settings) -> None:
    """The public port answers 404 for /metrics; KAMI_SERVER_METRICS_PORT answers every worker's."""
    port = free_port()
    env = kami_env(
        tmp_path,
        KAMI_ENVIRONMENT="production",
        KAMI_DATABASE_URL=mysql_at_head.database_url,
        KAMI_REDIS_URL=service_url("redis"),
        KAMI_SECRET_KEY="p" * 40,
        KAMI_SERVER_METRICS_PORT=str(port),
        KAMI_RATELIMIT_DEFAULT="100000/minute",
    )
    with run_kami(env, workers=2) as kami, httpx.Client(base_url=kami.url) as client:
        for _ in range(10):
            client.get("/app-b/v1/products", headers={"Connection": "close"})
        public = client.get("/metrics")
        assert (public.status_code, public.json()["code"]) == (404, 4004)
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert scraped.status_code == 200
        assert sample(scraped.text, "kami_requests_total", route="/app-b/v1/products") >= 10
