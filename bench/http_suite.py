"""kami against the physical ceiling and the FastAPI design it replaces, over real HTTP, in one run.

    uv run --group bench python bench/http_suite.py \\
        --database-url mysql+asyncmy://user:pass@127.0.0.1:3306/db --redis-url redis://127.0.0.1:6379/14 \\
        [--seconds 5 --rounds 3 --connections 64 --workers 2]

Contenders, each with the same number of worker processes on loopback:
  ceiling  a bare ASGI app under Granian (bench/contenders/raw_asgi.py): same bytes, raw asyncmy/redis
  bare     bare Litestar + msgspec under Granian (bench/contenders/bare_litestar.py): the same endpoints
           written with no platform (SQLAlchemy Core, one fixed pool, no logs, metrics, traces or
           limits); kami's server CPU per request over this one is what the platform costs
  peer     FastAPI + pydantic 2 + SQLAlchemy async + redis under Gunicorn/Uvicorn, with the same
           envelope, trace id, JSON access log, Prometheus metrics and tracing
           (bench/contenders/fastapi_peer.py)
  kami     `kami serve` as shipped (its own dependencies only, installed in bench/results/kami-env),
           production settings: JSON logs, tracing at the production sampling ratio exported to a
           local OTLP receiver, metrics, rate limiting on every app route

Every contender's modules are compiled to bytecode first, as the container's build does. Every
round starts each contender fresh (cold start to ready is measured), loads each endpoint with
wrk (fixed connections, bounded duration) and stops it; contenders alternate round by round. The
report gives per endpoint the median requests/s, p50/p99 latency, non-2xx responses, RSS per worker
at idle and under load, and the ratios kami/ceiling and kami/peer; kami's server CPU per request over
bare Litestar's; and, read from MariaDB's own counters around each load, the database connections
each contender opened per second and the statements (and pings) it sent per request. Written to
bench/results/ as Markdown, JSON and a PNG chart, with every contender's output in bench/results/logs/
(where non-2xx answers are explained). The database is migrated and seeded (products, buyers) first;
orders accumulate in it, so point it at a database made for benchmarking.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.otlp import OtlpReceiver  # noqa: E402
from tests.support.servers import free_port, kami_env  # noqa: E402
from tests.support.tokens import bearer  # noqa: E402

SECRET = "bench-" + "k" * 40
BUYERS = 400
ENDPOINTS = {
    "envelope": "GET /health/live",
    "product uncached": "GET /app-b/v1/inventory/{product}",
    "product cached": "GET /app-b/v1/products/{product}",
    "list page of 20": "GET /app-b/v1/products?page=1&page_size=20",
    "place order": "POST /app-a/v1/orders",
}
CONTENDERS = ["ceiling", "bare", "peer", "kami"]
PER_REQUEST = {
    "ceiling": "routes by string comparison, one asyncmy query on an autocommit pool (or a Redis GET), "
    "an envelope assembled from bytes; nothing validated, logged, traced or limited",
    "bare": "Litestar routing and msgspec (path, query and body parsed and validated), SQLAlchemy Core on "
    "one fixed pool (no pre-ping), redis-py for the cached reads, PyJWT for the order's token; no "
    "logging, metrics, tracing, limits or idempotency",
    "peer": "FastAPI + pydantic validation and serialisation, the stock OpenTelemetry FastAPI, SQLAlchemy "
    "and Redis instrumentations (10% sampled), a Prometheus counter and histogram, one JSON access "
    "line through the logging module, ORM sessions on a pool of 15 + 15 overflow with a pre-ping "
    "per checkout",
    "kami": "as shipped in production: request id, JSON access line, metrics, server span (10% "
    "sampled, exported over OTLP), header limit, rate limit in Redis per caller, response cache, "
    "idempotency keys on orders, security headers, the bearer token verified; two pools "
    "of 20 (ORM sessions, lean autocommit reads), idle connections pinged",
}
READY_TIMEOUT = 60.0
WARM_UP_SECONDS = 1.0


@dataclass
class Sample:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    rss_mib_per_worker: float
    server_cpu_ms_per_request: float  # all the contender's processes, user + system
    connections_per_second: float  # database connections opened (MariaDB's Connections counter)
    statements_per_request: float  # MariaDB's Questions counter
    pings_per_request: float  # MariaDB's Com_admin_commands counter (COM_PING: the pool's pre-ping)


@dataclass
class Results:
    samples: dict[str, dict[str, list[Sample]]] = field(default_factory=dict)
    ready_seconds: dict[str, list[float]] = field(default_factory=dict)
    idle_rss_mib: dict[str, list[float]] = field(default_factory=dict)


# --- seeding ----------------------------------------------------------------------------------------


def seed(database_url: str, redis_url: str) -> dict[str, Any]:
    """Migrate, then add the rows every contender reads and writes: products and funded buyers."""
    import anyio
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from apps.app_a.models import User
    from apps.app_b.models import Product
    from kami.db.config import normalise_url
    from kami.db.migrations import upgrade
    from kami.settings import load_settings

    settings = load_settings({"KAMI_DATABASE_URL": database_url, "KAMI_ENV_FILE": "/nonexistent"})
    upgrade(settings)
    run = uuid.uuid4().hex[:8]
    products = [Product(name=f"bench-{run}-{n}", price=Decimal("1.00"), stock=10_000_000) for n in range(20)]
    buyers = [
        User(
            email=f"b{n}-{run}@bench.invalid",
            username=f"b{n}-{run}",
            password_hash="x",
            balance=Decimal("1e9"),
        )
        for n in range(BUYERS)
    ]

    async def write() -> None:
        engine = create_async_engine(normalise_url(database_url))
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                session.add_all([*products, *buyers])
                await session.commit()
        finally:
            await engine.dispose()

    anyio.run(write)
    sessions = [bearer(SECRET, redis_url, "user", str(b.id)) for b in buyers]  # kami's, in its Redis
    return {
        "product": str(products[0].id),
        "products": [str(p.id) for p in products],
        "tokens": [headers["Authorization"].split()[1] for headers in sessions],
    }


# --- contenders -------------------------------------------------------------------------------------


def shipped_environment(folder: Path) -> str:
    """kami's own dependencies without the dev and bench groups, in an environment of their own, as the
    container installs them: in the development environment Litestar also loads the pydantic support
    it finds there (~20 MiB per worker kami does not ship). Returns its Python."""
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(folder)}
    subprocess.run(
        ["uv", "sync", "--no-dev", "--frozen", "--quiet", "--python", sys.executable],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=600,
    )
    return str(folder / "bin" / "python")


def compile_bytecode(python: str, *sources: Path) -> None:
    """Compile every module ``python`` may import at start, as the container's build does
    (``UV_COMPILE_BYTECODE=1``): where ``PYTHONDONTWRITEBYTECODE`` is set, as in the container and on
    CI machines, a process would otherwise compile each module it imports on every start (kami was
    ready after 5.9 s here without, 2.5 s with). Every contender gets the same treatment."""
    packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    # Exit status ignored: some packages ship files for other Python versions that do not compile.
    subprocess.run(
        [python, "-m", "compileall", "-qq", "-j", "0", packages, *map(str, sources)],
        capture_output=True,
        timeout=1200,
        check=False,
    )


def command(name: str, port: int, workers: int, kami_python: str) -> list[str]:
    python = sys.executable
    if name in ("ceiling", "bare"):
        module = {"ceiling": "raw_asgi", "bare": "bare_litestar"}[name]
        return [
            python,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--workers",
            str(workers),
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            f"bench.contenders.{module}:app",
        ]
    if name == "peer":
        return [
            python,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-k",
            "uvicorn.workers.UvicornWorker",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bench.contenders.fastapi_peer:app",
        ]
    return [kami_python, "-m", "kami", "serve", "--port", str(port), "--workers", str(workers)]


def environment(name: str, folder: Path, database_url: str, redis_url: str, otlp: str) -> dict[str, str]:
    if name == "kami":
        return kami_env(
            folder,
            KAMI_ENVIRONMENT="production",
            KAMI_DATABASE_URL=database_url,
            KAMI_REDIS_URL=redis_url,
            KAMI_SECRET_KEY=SECRET,
            KAMI_TELEMETRY_OTLP_ENDPOINT=otlp,
            KAMI_RATELIMIT_DEFAULT="1000000/second",
            KAMI_RATELIMIT_TIERS="free=1000000/second",
            KAMI_SERVER_DRAIN_SECONDS="0",
            # Every one of the load generator's connections admitted: this suite measures serving;
            # bench/soak.py measures shedding (and sets its own limit).
            KAMI_SERVER_MAX_IN_FLIGHT="1000",
        )
    plain = "mysql://" + database_url.split("://", 1)[1]
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("KAMI_")},
        "PYTHONPATH": str(ROOT),
        "BENCH_DATABASE_URL": plain if name == "ceiling" else database_url,
        "BENCH_REDIS_URL": redis_url,
        "BENCH_SECRET_KEY": SECRET,
        "BENCH_OTLP_ENDPOINT": otlp,
        "BENCH_SAMPLING_RATIO": "0.1",
        # The peer: 15 + 15 overflow, 30 connections per worker as in its template; bare Litestar: one
        # fixed pool of 20, as kami's default.
        "BENCH_POOL_SIZE": "15" if name == "peer" else "20",
    }


@contextmanager
def started(
    name: str, workers: int, env: dict[str, str], log: Path, kami_python: str
) -> Iterator[tuple[str, psutil.Process, float]]:
    port = free_port()
    began = time.perf_counter()
    with log.open("ab") as sink:
        process = subprocess.Popen(
            command(name, port, workers, kami_python),
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: nothing it forks outlives the round
        )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(url + "/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() - began > READY_TIMEOUT:
                raise RuntimeError(f"{name} not ready in {READY_TIMEOUT} s")
            time.sleep(0.02)
        yield url, psutil.Process(process.pid), time.perf_counter() - began
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # workers a master left behind hold DB connections
        process.wait()


def server_cpu_seconds(main: psutil.Process) -> float:
    """CPU time (user + system) used so far by the server: its main process and every worker."""
    total = 0.0
    for process in [main, *main.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def worker_rss_mib(main: psutil.Process) -> float:
    """Mean resident memory of the worker processes (the children serving requests)."""
    children = [c for c in main.children(recursive=True) if c.is_running()]
    sizes = [c.memory_info().rss for c in children] or [main.memory_info().rss]
    return statistics.mean(sizes) / 2**20


# --- database counters ------------------------------------------------------------------------------

COUNTERS = ("Connections", "Questions", "Com_admin_commands")


class DatabaseCounters:
    """MariaDB's global status counters, read around each load: connections opened, statements and
    pings sent by every client. Reading them costs a connection and a few statements of its own,
    measured once and subtracted."""

    def __init__(self, database_url: str | None) -> None:
        from sqlalchemy.engine import make_url

        self.url = make_url(database_url or "sqlite://")
        self.available = self.url.get_backend_name() in ("mysql", "mariadb")  # None: not counted
        self.overhead = {name: 0 for name in COUNTERS}
        if self.available:
            first = self.read()
            second = self.read()
            self.overhead = {name: second[name] - first[name] for name in COUNTERS}

    def read(self) -> dict[str, int]:
        if not self.available:
            return {name: 0 for name in COUNTERS}
        import anyio
        import asyncmy

        async def status() -> dict[str, int]:
            connection = await asyncmy.connect(
                host=self.url.host,
                port=self.url.port or 3306,
                user=self.url.username,
                password=self.url.password or "",
                db=self.url.database,
            )
            try:
                async with connection.cursor() as cursor:
                    names = ", ".join(f"'{name}'" for name in COUNTERS)
                    await cursor.execute(f"SHOW GLOBAL STATUS WHERE Variable_name IN ({names})")
                    return {name: int(value) for name, value in await cursor.fetchall()}
            finally:
                connection.close()

        return anyio.run(status)

    def used(self, before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
        return {name: max(after[name] - before[name] - self.overhead[name], 0) for name in COUNTERS}


# --- load -------------------------------------------------------------------------------------------

ORDER_SCRIPT = """
local tokens = {%s}
local products = {%s}
local n = 0
request = function()
  n = n + 1
  local body = '{"items":[{"product_id":"' .. products[(n %% #products) + 1] .. '","quantity":1}]}'
  local token = tokens[(n %% #tokens) + 1]
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
  return wrk.format("POST", "/app-a/v1/orders", headers, body)
end
"""


def _ms(text: str) -> float:
    value, unit = float(re.match(r"[\d.]+", text).group()), re.sub(r"[\d.]+", "", text)  # type: ignore[union-attr]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str,
    target: str,
    seconds: float,
    connections: int,
    script: Path | None,
    main: psutil.Process,
    counters: DatabaseCounters | None,
) -> Sample:
    method, path = target.split(" ", 1)
    arguments = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", url + path.split("?")[0]]
    if "?" in path:
        arguments[-1] = url + path
    if method == "POST" and script is not None:
        arguments[1:1] = ["-s", str(script)]
    peak: list[float] = []
    stop = threading.Event()

    def sample_memory() -> None:
        while not stop.wait(0.5):
            with contextlib.suppress(psutil.Error):
                peak.append(worker_rss_mib(main))

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    counters = counters or DatabaseCounters(None)
    database_before = counters.read()
    cpu_before = server_cpu_seconds(main)
    began = time.perf_counter()
    output = subprocess.run(
        arguments, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    elapsed = time.perf_counter() - began
    cpu_used = server_cpu_seconds(main) - cpu_before
    database = counters.used(database_before, counters.read())
    stop.set()
    sampler.join()
    latency = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", output, re.M))
    if not {"50", "99"} <= set(latency):
        raise RuntimeError(f"wrk printed no latency distribution:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    answered = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    return Sample(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(latency["50"]),
        p99_ms=_ms(latency["99"]),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
        rss_mib_per_worker=max(peak) if peak else worker_rss_mib(main),
        server_cpu_ms_per_request=cpu_used * 1000 / max(answered, 1),
        connections_per_second=database["Connections"] / elapsed,
        statements_per_request=database["Questions"] / max(answered, 1),
        pings_per_request=database["Com_admin_commands"] / max(answered, 1),
    )


# --- report -----------------------------------------------------------------------------------------


def summarise(results: Results) -> dict[str, Any]:
    table: dict[str, Any] = {"endpoints": {}, "ready_seconds": {}, "idle_rss_mib_per_worker": {}}
    for endpoint, by_contender in results.samples.items():
        row: dict[str, Any] = {}
        for contender, samples in by_contender.items():
            row[contender] = {
                "requests_per_second": round(statistics.median(s.requests_per_second for s in samples), 1),
                "p50_ms": round(statistics.median(s.p50_ms for s in samples), 2),
                "p99_ms": round(statistics.median(s.p99_ms for s in samples), 2),
                "non_2xx": sum(s.non_2xx for s in samples),
                "errors": sum(s.errors for s in samples),
                "rss_mib_per_worker_under_load": round(max(s.rss_mib_per_worker for s in samples), 1),
                "server_cpu_ms_per_request": round(
                    statistics.median(s.server_cpu_ms_per_request for s in samples), 3
                ),
                "db_connections_per_second": round(
                    statistics.median(s.connections_per_second for s in samples), 1
                ),
                "statements_per_request": round(
                    statistics.median(s.statements_per_request for s in samples), 2
                ),
                "pings_per_request": round(statistics.median(s.pings_per_request for s in samples), 2),
            }
        kami = row.get("kami", {}).get("requests_per_second")
        for peer in ("ceiling", "peer"):
            other = row.get(peer, {}).get("requests_per_second")
            row[f"kami/{peer}"] = round(kami / other, 2) if kami and other else None
        kami_cpu = row.get("kami", {}).get("server_cpu_ms_per_request")
        bare_cpu = row.get("bare", {}).get("server_cpu_ms_per_request")
        row["kami_cpu/bare_cpu"] = round(kami_cpu / bare_cpu, 2) if kami_cpu and bare_cpu else None
        table["endpoints"][endpoint] = row
    for contender, values in results.ready_seconds.items():
        table["ready_seconds"][contender] = round(statistics.median(values), 2)
    for contender, values in results.idle_rss_mib.items():
        table["idle_rss_mib_per_worker"][contender] = round(statistics.median(values), 1)
    return table


def markdown(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = [
        f"Run {meta['started']}: {meta['rounds']} rounds x {meta['seconds']} s per endpoint, "
        f"wrk -c{meta['connections']}, "
        f"{meta['workers']} workers each, {meta['cpus']} CPUs shared by server, database and load generator.",
        "",
        "| endpoint | contender | req/s (median) | p50 ms | p99 ms | non-2xx | errors | RSS/worker MiB "
        "| server CPU ms/request | DB connections opened/s | statements/request | pings/request |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for endpoint, row in summary["endpoints"].items():
        for contender in CONTENDERS:
            if contender in row:
                c = row[contender]
                lines.append(
                    f"| {endpoint} | {contender} | {c['requests_per_second']:.0f} | {c['p50_ms']} "
                    f"| {c['p99_ms']} | {c['non_2xx']} | {c['errors']} "
                    f"| {c['rss_mib_per_worker_under_load']} | {c['server_cpu_ms_per_request']} "
                    f"| {c['db_connections_per_second']} | {c['statements_per_request']} "
                    f"| {c['pings_per_request']} |"
                )
    lines += [
        "",
        "| endpoint | kami/ceiling (req/s) | kami/peer (req/s) | kami CPU/request over bare Litestar's |",
        "|---|---|---|---|",
    ]
    for endpoint, row in summary["endpoints"].items():
        lines.append(
            f"| {endpoint} | {row['kami/ceiling'] or '—'} | {row['kami/peer'] or '—'} "
            f"| {row['kami_cpu/bare_cpu'] or '—'} |"
        )
    lines += ["", "What each contender does per request:", ""]
    lines += [f"- {contender}: {PER_REQUEST[contender]}." for contender in CONTENDERS]
    lines += ["", "| contender | ready after start (s, median) | idle RSS/worker MiB |", "|---|---|---|"]
    for contender in CONTENDERS:
        lines.append(
            f"| {contender} | {summary['ready_seconds'].get(contender)} "
            f"| {summary['idle_rss_mib_per_worker'].get(contender)} |"
        )
    return "\n".join(lines) + "\n"


def chart(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    endpoints = list(summary["endpoints"])
    width = 0.8 / len(CONTENDERS)
    figure, axes = plt.subplots(figsize=(10, 4.5))
    for i, contender in enumerate(CONTENDERS):
        values = [summary["endpoints"][e].get(contender, {}).get("requests_per_second", 0) for e in endpoints]
        offset = (i - (len(CONTENDERS) - 1) / 2) * width
        axes.bar([x + offset for x in range(len(endpoints))], values, width, label=contender)
    axes.set_xticks(range(len(endpoints)), endpoints)
    axes.set_ylabel("requests/s (median)")
    axes.set_title("kami vs the raw ceiling, bare Litestar and the FastAPI peer (same run, same workers)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


# --- main -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True, help="mysql+asyncmy://user:pass@127.0.0.1:3306/db")
    parser.add_argument(
        "--redis-url", required=True, help="redis://127.0.0.1:6379/14 (flushed of bench keys)"
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS), help="comma separated subset")
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="comma separated subset")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    endpoints = [e for e in args.endpoints.split(",") if e]
    contenders = [c for c in args.contenders.split(",") if c]
    fixtures = seed(args.database_url, args.redis_url)
    counters = DatabaseCounters(args.database_url)
    kami_python = shipped_environment(args.output / "kami-env") if "kami" in contenders else sys.executable
    compile_bytecode(kami_python, ROOT / "kami", ROOT / "apps")
    compile_bytecode(sys.executable, ROOT / "bench")  # the peer and the ceiling
    results = Results()
    logs = args.output / "logs"  # every contender's output, kept: non-2xx answers are explained there
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as scratch, OtlpReceiver() as receiver:
        folder = Path(scratch)
        script = folder / "order.lua"
        script.write_text(
            ORDER_SCRIPT
            % (
                ",".join(f'"{t}"' for t in fixtures["tokens"]),
                ",".join(f'"{p}"' for p in fixtures["products"]),
            )
        )
        for round_number in range(args.rounds):
            order = (
                contenders[round_number % len(contenders) :] + contenders[: round_number % len(contenders)]
            )
            for contender in order:
                env = environment(
                    contender,
                    folder / f"{contender}-{round_number}",
                    args.database_url,
                    args.redis_url,
                    receiver.endpoint,
                )
                log = logs / f"{contender}.log"
                with started(contender, args.workers, env, log, kami_python) as (url, main_process, ready):
                    results.ready_seconds.setdefault(contender, []).append(ready)
                    time.sleep(1.0)
                    results.idle_rss_mib.setdefault(contender, []).append(worker_rss_mib(main_process))
                    for endpoint in endpoints:
                        if contender == "ceiling" and endpoint == "place order":
                            continue  # the ceiling is a read path; orders compare kami with the peer only
                        target = ENDPOINTS[endpoint].format(product=fixtures["product"])
                        # Warm the caches and fill the connection pools at the measured concurrency:
                        # connections opened during the sample are then churn, not a pool filling.
                        with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
                            wrk(url, target, WARM_UP_SECONDS, args.connections, script, main_process, None)
                        try:
                            sample = wrk(
                                url, target, args.seconds, args.connections, script, main_process, counters
                            )
                        except (RuntimeError, subprocess.SubprocessError) as exc:
                            print(f"round {round_number + 1} {contender} {endpoint}: no sample ({exc})")
                            continue
                        results.samples.setdefault(endpoint, {}).setdefault(contender, []).append(sample)
                        print(
                            f"round {round_number + 1} {contender:8} {endpoint:18} "
                            f"{sample.requests_per_second:9.0f} req/s p99 {sample.p99_ms:7.2f} ms "
                            f"non-2xx {sample.non_2xx} cpu {sample.server_cpu_ms_per_request:.2f} ms "
                            f"db conns/s {sample.connections_per_second:.1f} "
                            f"stmts {sample.statements_per_request:.2f} pings {sample.pings_per_request:.2f}",
                            flush=True,
                        )
        receiver.spans.clear()
    summary = summarise(results)
    meta = {
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "rounds": args.rounds,
        "seconds": args.seconds,
        "connections": args.connections,
        "workers": args.workers,
        "cpus": os.cpu_count(),
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "http_suite.json").write_text(json.dumps({"meta": meta, "summary": summary}, indent=2))
    text = markdown(summary, meta)
    (args.output / "http_suite.md").write_text(text)
    chart(summary, args.output / "http_suite.png")
    print("\n" + text)


if __name__ == "__main__":
    main()
