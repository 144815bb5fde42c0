"""Request latency with the OTLP collector down, against a working collector and no export at all.

    uv run python bench/collector_down.py [--requests 2000 --rounds 3]

Starts ``kami serve`` (1 worker, embedded default, pinned to one core while this process and the
receiver use the other) three times per round, alternating: no telemetry
export; exporting to a real OTLP receiver in this process; exporting to a closed loopback port.
Prints median and p99 latency of sequential requests and the down/up ratios: near 1.0 means a dead
collector costs requests nothing beyond what exporting costs anyway.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.otlp import OtlpReceiver
from tests.support.servers import free_port, kami_env, run_kami

ALL_CPUS = os.sched_getaffinity(0)
SERVER_CPU, CLIENT_CPU = (1, 0) if len(ALL_CPUS) > 1 else (0, 0)


def measure(url: str, requests: int) -> list[float]:
    latencies: list[float] = []
    with httpx.Client(base_url=url) as client:
        for _ in range(50):
            client.get("/app-b/v1/products")
        for _ in range(requests):
            started = time.perf_counter()
            client.get("/app-b/v1/products", params={"page": 1})
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"no export": [], "collector up": [], "collector down": []}
    with OtlpReceiver() as receiver:
        for _ in range(args.rounds):
            for name in results:
                with tempfile.TemporaryDirectory() as folder:
                    extra = {"KAMI_RATELIMIT_ENABLED": "false"}
                    if name == "collector up":
                        extra["KAMI_TELEMETRY_OTLP_ENDPOINT"] = receiver.endpoint
                    if name == "collector down":
                        extra["KAMI_TELEMETRY_OTLP_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"
                    os.sched_setaffinity(0, {SERVER_CPU})  # the server (and its workers) inherit this core
                    with run_kami(kami_env(Path(folder), **extra)) as kami:
                        os.sched_setaffinity(0, {CLIENT_CPU})  # the load generator and receiver: the other
                        results[name] += measure(kami.url, args.requests)
                    os.sched_setaffinity(0, ALL_CPUS)
    report = {
        name: {
            "p50_ms": round(statistics.median(v), 3),
            "p99_ms": round(statistics.quantiles(v, n=100)[98], 3),
        }
        for name, v in results.items()
    }
    down, up = report["collector down"], report["collector up"]
    ratios = {
        "p50_down_over_up": round(down["p50_ms"] / up["p50_ms"], 3),
        "p99_down_over_up": round(down["p99_ms"] / up["p99_ms"], 3),
    }
    print("| telemetry | p50 ms | p99 ms |\n|---|---|---|")
    for name, row in report.items():
        print(f"| {name} | {row['p50_ms']} | {row['p99_ms']} |")
    print(f"collector down / up: p50 {ratios['p50_down_over_up']:.2f}, p99 {ratios['p99_down_over_up']:.2f}")
    print(json.dumps({**report, **ratios}))


if __name__ == "__main__":
    main()
