"""Primary-key read: kami's repository layer against the raw asyncmy driver, in the same run.

    uv run python bench/db_read.py --url mysql+asyncmy://user:pass@127.0.0.1:3306/db [--seconds 3 --rounds 5]

Contenders alternate A B A B ... for ``--rounds`` rounds of ``--seconds`` each on one event loop;
the report gives reads/s (median of rounds) and each contender's ratio to the raw driver.
The database must be migrated (``kami db upgrade``); one product row is inserted and removed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncmy
from sqlalchemy.engine import make_url

from apps.app_b.models import Product
from apps.app_b.repositories import ProductRepository
from apps.app_b.services import ProductService
from kami.db.config import build_sqlalchemy_config
from kami.db.precompiled import dispose_read_engines
from kami.settings import load_settings

Read = Callable[[], Awaitable[Any]]


async def _measure(read: Read, seconds: float) -> float:
    count, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for _ in range(50):
            await read()
        count += 50
    return count / seconds


async def main(url: str, seconds: float, rounds: int) -> dict[str, Any]:
    settings = load_settings({"KAMI_DATABASE_URL": url, "KAMI_DATABASE_AUTO_MIGRATE": "false"})
    config = build_sqlalchemy_config(settings)
    async with config.get_session() as session:
        product = Product(name=f"bench-{time.time_ns()}", price=Decimal("1.00"), stock=1)
        session.add(product)
        await session.commit()
        product_id: UUID = product.id

    parts = make_url(url)
    raw = await asyncmy.connect(
        host=parts.host,
        port=parts.port or 3306,
        user=parts.username,
        password=parts.password,
        db=parts.database,
    )
    raw_cursor = raw.cursor()

    async def raw_read() -> Any:
        await raw_cursor.execute(
            "SELECT id, name, price, description, stock, version, created_at, updated_at "
            "FROM app_b_product WHERE id = %s",
            (product_id.bytes,),
        )
        return await raw_cursor.fetchone()

    async def repository_read() -> Any:
        async with config.get_session() as session:
            return await ProductService(session=session).get_out(product_id)

    reader_session = config.create_session_maker()()  # never begins a transaction: reads take the lean pool

    async def reader_only() -> Any:
        return await ProductRepository.read_row(reader_session, product_id)

    contenders: dict[str, Read] = {
        "raw asyncmy": raw_read,
        "kami repository (per-request session + service)": repository_read,
        "kami repository read path alone": reader_only,
    }
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, read in contenders.items():
            results[name].append(await _measure(read, seconds))

    raw.close()
    await reader_session.close()
    await dispose_read_engines()
    async with config.get_session() as session:
        await session.delete(await session.get(Product, product_id))
        await session.commit()
    await config.get_engine().dispose()

    medians = {name: statistics.median(values) for name, values in results.items()}
    base = medians["raw asyncmy"]
    return {
        name: {"reads_per_s": round(v), "ratio_to_raw": round(v / base, 3)} for name, v in medians.items()
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    report = asyncio.run(main(args.url, args.seconds, args.rounds))
    print("| contender | reads/s (median) | ratio to raw |\n|---|---|---|")
    for name, row in report.items():
        print(f"| {name} | {row['reads_per_s']} | {row['ratio_to_raw']:.0%} |")
    print(json.dumps(report))
