"""1,000 concurrent clients on the user journey against ``kami serve``, bounded in time, with figures.

    uv run --group bench python bench/soak.py \\
        --database-url mysql+asyncmy://user:pass@127.0.0.1:3306/kami_bench \\
        --redis-url redis://127.0.0.1:6379/14 [--clients 1000 --seconds 60 --workers 2]

Each client is one wrk connection that thinks 2-6 s between requests (``--think-ms``; 1,000 clients
then offer about 250 requests/s) and follows the journey: browse the list, look at a product, now and then
place an order. Reported: requests, p50/p95/p99 latency, non-2xx and socket errors, the requests refused
503 by load shedding (``--max-in-flight``) and the admitted requests' p50/p95, orders answered
201 against orders stored (an order answered 201 but not stored is lost; orders stored beyond the
answered ones were still in flight when wrk stopped counting), and worker memory at the start and end
of the soak.
kami runs in production mode as in bench/http_suite.py; only loopback is targeted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import anyio
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.http_suite import environment, seed, shipped_environment, started, worker_rss_mib  # noqa: E402
from kami.settings import ServerSettings  # noqa: E402
from tests.support.otlp import OtlpReceiver  # noqa: E402

JOURNEY = """
local tokens = {%(tokens)s}
local products = {%(products)s}
local threads = {}
step, created, failed, refused = 0, 0, 0, 0  -- globals: done() reads them with thread:get

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + math.random(1000))
end

function delay()
  return math.random(%(think_min)d, %(think_max)d)
end

function request()
  step = step + 1
  local product = products[(step %% #products) + 1]
  if step %% 10 == 0 then
    local token = tokens[(step %% #tokens) + 1]
    local body = '{"items":[{"product_id":"' .. product .. '","quantity":1}]}'
    return wrk.format("POST", "/app-a/v1/orders",
      {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
  elseif step %% 2 == 0 then
    return wrk.format("GET", "/app-b/v1/products/" .. product)
  end
  return wrk.format("GET", "/app-b/v1/products?page=1&page_size=20")
end

function response(status, headers, body)
  if status == 201 then created = created + 1 elseif status >= 300 then failed = failed + 1 end
  if status == 503 then refused = refused + 1 end
end

function done(summary, latency, requests)
  local orders, bad, shed = 0, 0, 0
  for _, thread in ipairs(threads) do
    orders = orders + thread:get("created")
    bad = bad + thread:get("failed")
    shed = shed + thread:get("refused")
  end
  io.write(string.format('SOAK {"requests": %%d, "p50_ms": %%.2f, "p95_ms": %%.2f, "p99_ms": %%.2f, ' ..
    '"non_2xx": %%d, "refused_503": %%d, ' ..
    '"socket_errors": %%d, "timeouts": %%d, "orders_201": %%d}\\n',
    summary.requests, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, bad, shed,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.timeout, orders))
end
"""


async def _stored_orders(url: str, product_ids: list[str]) -> int:
    from uuid import UUID

    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from apps.app_a.models import OrderLine
    from kami.db.config import normalise_url

    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as connection:
            query = (
                select(func.count())
                .select_from(OrderLine)
                .where(OrderLine.product_id.in_([UUID(p) for p in product_ids]))
            )
            return int((await connection.execute(query)).scalar_one())
    finally:
        await engine.dispose()


def _probe_report(probed: list[tuple[int, float]]) -> dict[str, float]:
    admitted = sorted(seconds for status, seconds in probed if status == 200)
    refused = sum(1 for status, _ in probed if status == 503)

    def quantile(q: float) -> float:
        return round(1000 * admitted[min(int(q * len(admitted)), len(admitted) - 1)], 1) if admitted else 0.0

    return {
        "requests": len(probed),
        "admitted": len(admitted),
        "refused_503": refused,
        "failed": len(probed) - len(admitted) - refused,
        "admitted_p50_ms": quantile(0.5),
        "admitted_p95_ms": quantile(0.95),
        "refused_max_ms": round(1000 * max((s for st, s in probed if st == 503), default=0.0), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think-ms", default="2000-6000", help="each client's pause between requests")
    parser.add_argument(
        "--max-in-flight",
        default=str(ServerSettings().max_in_flight),
        help="KAMI_SERVER_MAX_IN_FLIGHT for the run (0 = no shedding; default: kami's default)",
    )
    args = parser.parse_args()
    think = tuple(int(part) for part in args.think_ms.split("-", 1))
    fixtures = seed(args.database_url, args.redis_url)
    kami_python = shipped_environment(ROOT / "bench" / "results" / "kami-env")
    with tempfile.TemporaryDirectory() as scratch, OtlpReceiver() as receiver:
        folder = Path(scratch)
        script = folder / "journey.lua"
        script.write_text(
            JOURNEY
            % {
                "tokens": ",".join(f'"{t}"' for t in fixtures["tokens"]),
                "products": ",".join(f'"{p}"' for p in fixtures["products"]),
                "think_min": think[0],
                "think_max": think[1],
            }
        )
        env = environment("kami", folder / "kami", args.database_url, args.redis_url, receiver.endpoint)
        env["KAMI_SERVER_MAX_IN_FLIGHT"] = args.max_in_flight
        log = folder / "kami.log"
        with started("kami", args.workers, env, log, kami_python) as (url, main_process, ready):
            memory: list[float] = []
            stop = threading.Event()

            def sample() -> None:
                while not stop.wait(1.0):
                    memory.append(worker_rss_mib(main_process))

            probed: list[tuple[int, float]] = []

            def probe() -> None:
                """One more client among the thousand, timing each of its answers (wrk cannot tell an
                admitted request's latency from a refused one's)."""
                with httpx.Client(base_url=url, timeout=10) as client:
                    while not stop.wait(0.2):
                        started_at = time.perf_counter()
                        try:
                            status = client.get("/app-b/v1/products?page=1&page_size=20").status_code
                        except httpx.HTTPError:
                            status = 0  # a timeout or a dropped connection
                        probed.append((status, time.perf_counter() - started_at))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            prober = threading.Thread(target=probe, daemon=True)
            prober.start()
            run = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    f"-c{args.clients}",
                    f"-d{args.seconds}s",
                    "--timeout",
                    "10s",
                    "-s",
                    str(script),
                    url,
                ],
                capture_output=True,
                text=True,
                timeout=args.seconds + 120,
                check=False,
            )
            if run.returncode != 0:
                sys.exit(f"wrk failed:\n{run.stdout}\n{run.stderr}")
            stop.set()
            sampler.join()
            prober.join()
    line = next(line for line in run.stdout.splitlines() if line.startswith("SOAK "))
    report = json.loads(line.removeprefix("SOAK "))
    stored = anyio.run(_stored_orders, args.database_url, fixtures["products"])
    tenth = max(1, len(memory) // 10)
    report |= {
        "clients": args.clients,
        "seconds": args.seconds,
        "requests_per_second": round(report["requests"] / args.seconds, 1),
        "refused_share": round(report["refused_503"] / max(report["requests"], 1), 3),
        "probe": _probe_report(probed),
        "max_in_flight": int(args.max_in_flight),
        "orders_stored": stored,
        "orders_lost": max(0, report["orders_201"] - stored),
        "orders_in_flight_at_cutoff": max(0, stored - report["orders_201"]),
        "rss_mib_per_worker_first_tenth": round(statistics.mean(memory[:tenth]), 1),
        "rss_mib_per_worker_middle_tenth": round(
            statistics.mean(memory[len(memory) // 2 : len(memory) // 2 + tenth]), 1
        ),
        "rss_mib_per_worker_last_tenth": round(statistics.mean(memory[-tenth:]), 1),
        "ready_seconds": round(ready, 2),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
