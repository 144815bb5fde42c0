"""Where one request's time goes inside kami: the ASGI app driven in-process, no server, no sockets.

    uv run --group bench python bench/profile_request.py --path /app-b/v1/inventory/{product} \\
        --database-url mysql+asyncmy://... --redis-url redis://127.0.0.1:6379/14 \\
        [--order] [--requests 5000] [--rounds 5] [--profile] [--functions 40]

Builds kami with production settings (JSON logs to a null stream, spans at the production sampling
ratio, metrics, rate limiting), runs its lifespan, sends ``--requests`` GETs to ``--path``
(``{product}`` becomes a product the suite's seed adds; ``--order`` POSTs one-line orders as a
seeded buyer instead) and prints microseconds per request, wall clock and this thread's CPU (best
and median of ``--rounds``; the best is the least disturbed by the rest of the machine). Spans are
exported only with ``--otlp-endpoint`` (the HTTP suite measures export). ``--profile`` adds a
pyinstrument tree of one round, ``--functions N`` the N costliest functions; both misplace time
spent in SQLAlchemy's greenlets, so for a DB-heavy route compare the CPU figure across a change.
The HTTP suite measures what clients see; this tells which part of kami a change moved, without the
noise of wrk and the server sharing two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.http_suite import SECRET, seed  # noqa: E402


def _environment(database_url: str, redis_url: str, otlp_endpoint: str) -> dict[str, str]:
    env = {
        "KAMI_ENVIRONMENT": "production",
        "KAMI_ENV_FILE": "/nonexistent",
        "KAMI_DATABASE_URL": database_url,
        "KAMI_SECRET_KEY": SECRET,  # the key the suite's seed signs its buyers' tokens with
        "KAMI_TELEMETRY_OTLP_ENDPOINT": otlp_endpoint,
        "KAMI_RATELIMIT_DEFAULT": "1000000/second",
        "KAMI_RATELIMIT_TIERS": "free=1000000/second",
    }
    env["KAMI_REDIS_URL"] = redis_url
    return env


async def _drive(
    app: Any, path: str, count: int, order: Order | None = None, token: bytes | None = None
) -> tuple[float, float]:
    """Seconds for ``count`` sequential requests through the full ASGI stack: wall clock, and CPU of
    this thread (the difference is mostly waiting for MySQL and Redis). GETs of ``path`` (as the
    buyer whose ``token`` is given, if one is), or with ``order`` POSTs of that body as that buyer."""
    raw_path, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"accept", b"application/json")]
    if order is not None:
        headers += [(b"content-type", b"application/json")]
        token = order.token
    if token is not None:
        headers += [(b"authorization", b"Bearer " + token)]
    scope_base = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET" if order is None else "POST",
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    statuses: list[int] = []

    body = order.body if order is not None else b""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started, cpu = time.perf_counter(), time.thread_time()
    for _ in range(count):
        await app(dict(scope_base, state={}), receive, send)
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
    wrong = [s for s in statuses if s >= 300]
    if wrong:
        raise SystemExit(f"{path} answered {wrong[0]} ({len(wrong)} of {count})")
    return elapsed, cpu


def _silence_stderr_logs(in_memory: bool) -> None:
    """JSON lines are still rendered and written, into memory or /dev/null instead of the terminal."""
    import logging

    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(io.StringIO() if in_memory else open(os.devnull, "w"))  # noqa: SIM115


@dataclass(frozen=True)
class Order:
    body: bytes
    token: bytes


async def main(args: argparse.Namespace) -> None:
    order, token = None, None
    if "{product}" in args.path or args.order or args.as_buyer:  # the suite's seed: products, buyers
        fixtures = await asyncio.to_thread(seed, args.database_url, args.redis_url)
        args.path = args.path.replace("{product}", fixtures["product"])
        token = fixtures["tokens"][0].encode() if args.as_buyer else None
        if args.order:
            item = {"product_id": fixtures["product"], "quantity": 1}
            order = Order(json.dumps({"items": [item]}).encode(), fixtures["tokens"][0].encode())
            args.path = "/app-a/v1/orders"
    os.environ.update(_environment(args.database_url, args.redis_url, args.otlp_endpoint))
    sys.stdout.flush()
    from kami.pipeline.app import create_app
    from kami.settings import get_settings

    get_settings.cache_clear()
    app = create_app()
    _silence_stderr_logs(args.keep_logs)
    async with app.lifespan():  # type: ignore[attr-defined]
        await _drive(app, args.path, min(200, args.requests), order, token)  # warm caches and pools
        rounds = [await _drive(app, args.path, args.requests, order, token) for _ in range(args.rounds)]
        per_request = [(wall / args.requests * 1e6, cpu / args.requests * 1e6) for wall, cpu in rounds]
        best = min(per_request)
        median = statistics.median(wall for wall, _ in per_request)
        print(
            f"{args.path}: {best[0]:.1f} µs/request in-process, {best[1]:.1f} µs of it on this thread's CPU "
            f"(best of {args.rounds}; median {median:.1f})"
        )
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002, async_mode="disabled")
            profiler.start()
            await _drive(app, args.path, args.requests, order, token)
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        if args.functions or args.by_package:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            await _drive(app, args.path, args.requests, order, token)
            profile.disable()
            stats = pstats.Stats(profile)
            if args.by_package:
                _print_by_package(stats, args.requests)
            if args.functions:
                stats.sort_stats("tottime").print_stats(args.functions)


def _package(filename: str) -> str:
    """Who owns a profiled function: kami, an app, a library (its top-level package), the standard
    library, or code written in C (builtins and extension methods)."""
    if filename.startswith(("~", "<")):
        return "C (builtins, extensions)"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    relative = Path(filename).resolve()
    if relative.is_relative_to(ROOT):
        return relative.relative_to(ROOT).parts[0]
    return "standard library"


def _print_by_package(stats: Any, requests: int) -> None:
    """Self time per owner, in microseconds per request (cProfile's own overhead inflates every line
    alike: compare the shares, not the absolute figures with the un-profiled one above)."""
    totals: dict[str, float] = {}
    for (filename, _, _), (_, _, self_seconds, _, _) in stats.stats.items():
        owner = _package(filename)
        totals[owner] = totals.get(owner, 0.0) + self_seconds
    whole = sum(totals.values()) or 1.0
    print("self time by owner (profiled):")
    for owner, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {owner:28} {seconds / requests * 1e6:8.1f} µs/request  {seconds / whole:6.1%}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--path", default="/health/live")
    parser.add_argument("--database-url", required=True, help="mysql+asyncmy://user:pass@127.0.0.1:3306/db")
    parser.add_argument("--redis-url", required=True, help="redis://127.0.0.1:6379/14")
    parser.add_argument(
        "--otlp-endpoint",
        default="",
        help="export spans there (a receiver in another process); default: none",
    )
    parser.add_argument(
        "--order", action="store_true", help="POST /app-a/v1/orders (one line) as a seeded buyer instead"
    )
    parser.add_argument(
        "--as-buyer", action="store_true", help="send a seeded buyer's access token with the GETs"
    )
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--functions", type=int, default=0, help="also list the N costliest functions (cProfile)"
    )
    parser.add_argument(
        "--by-package",
        action="store_true",
        help="also split the self time by owner: kami, apps, Litestar, OpenTelemetry... (cProfile)",
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="render log lines into memory, not /dev/null"
    )
    options = parser.parse_args()
    try:  # the loop Granian picks in production (``auto``): uvloop when installed
        import uvloop

        uvloop.run(main(options))
    except ImportError:
        asyncio.run(main(options))
