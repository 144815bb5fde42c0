"""Request latency with the OTLP endpoint unreachable vs no endpoint at all, measured in one run.

    uv run python bench/collector_down.py [--requests 2000 --rounds 3]

Starts ``kami serve`` (1 worker, embedded default) twice per round, alternating: A with no telemetry
export, B exporting to a closed loopback port. Prints median and p99 latency of sequential requests
to an envelope route and the B/A ratio; a ratio near 1.0 means a dead collector costs requests nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.servers import free_port, kami_env, run_kami


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
    results: dict[str, list[float]] = {"no export": [], "collector down": []}
    for _ in range(args.rounds):
        for name in results:
            with tempfile.TemporaryDirectory() as folder:
                extra = {"KAMI_RATELIMIT_ENABLED": "false"}
                if name == "collector down":
                    extra["KAMI_TELEMETRY_OTLP_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"
                with run_kami(kami_env(Path(folder), **extra)) as kami:
                    results[name] += measure(kami.url, args.requests)
    report = {
        name: {
            "p50_ms": round(statistics.median(v), 3),
            "p99_ms": round(statistics.quantiles(v, n=100)[98], 3),
        }
        for name, v in results.items()
    }
    ratio = report["collector down"]["p50_ms"] / report["no export"]["p50_ms"]
    print("| telemetry | p50 ms | p99 ms |\n|---|---|---|")
    for name, row in report.items():
        print(f"| {name} | {row['p50_ms']} | {row['p99_ms']} |")
    print(f"p50 ratio collector down / no export: {ratio:.2f}")
    print(json.dumps({**report, "p50_ratio": round(ratio, 3)}))


if __name__ == "__main__":
    main()
