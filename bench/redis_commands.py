"""What one Redis command costs kami's process: redis-py's pool against the store's pipelined
connection, one caller at a time and with many callers in flight (as under load).

    uv run --group bench python bench/redis_commands.py --redis-url redis://127.0.0.1:6379/14 \\
        [--commands 20000] [--callers 32] [--rounds 3]

Each round runs every contender in turn (A B A B ...) and times ``--commands`` GETs of a 300-byte
value: wall clock and this process's CPU per command, median of the rounds, and the ratio
redis-py / pipelined measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def _timed(get: Callable[[], Awaitable[object]], commands: int, callers: int) -> tuple[float, float]:
    async def caller(count: int) -> None:
        for _ in range(count):
            await get()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(caller(commands // callers) for _ in range(callers)))
    done = commands // callers * callers
    return (time.perf_counter() - started) / done * 1e6, (time.process_time() - cpu) / done * 1e6


async def main(args: argparse.Namespace) -> None:
    from redis.asyncio import BlockingConnectionPool, Redis

    from kami.store.pipelined import PipelinedRedis

    pool = BlockingConnectionPool.from_url(args.redis_url, max_connections=50, timeout=2, socket_timeout=2)
    redis_py = Redis(connection_pool=pool)  # as kami configured redis-py for the store before
    pipelined = PipelinedRedis.from_url(args.redis_url, timeout=2)
    key = "bench:redis-commands"
    await redis_py.set(key, b"x" * 300)
    contenders = {"redis-py": lambda: redis_py.get(key), "pipelined": lambda: pipelined.execute("GET", key)}
    print(f"GET of 300 bytes, {args.commands} commands per round, median of {args.rounds} rounds")
    print("| callers | contender | wall µs/command | CPU µs/command |\n|---|---|---|---|")
    for callers in (1, args.callers):
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
        for _ in range(args.rounds):
            for name, get in contenders.items():
                await _timed(get, min(1000, args.commands), callers)  # warm: connections open
                results[name].append(await _timed(get, args.commands, callers))
        medians = {
            name: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
            for name, runs in results.items()
        }
        for name, (wall, cpu) in medians.items():
            print(f"| {callers} | {name} | {wall:.1f} | {cpu:.1f} |")
        ratio = medians["redis-py"][1] / medians["pipelined"][1]
        print(f"| {callers} | redis-py / pipelined CPU | {ratio:.2f}x | |")
    await redis_py.delete(key)
    await redis_py.aclose()
    await pipelined.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--commands", type=int, default=20000)
    parser.add_argument("--callers", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    import uvloop

    uvloop.run(main(parser.parse_args()))
