"""App B's background work."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from apps.app_b.schemas import LowStockReport
from apps.app_b.services import ProductService
from kami.cache import DistributedLock, LockNotAcquiredError, Store
from kami.data import session_scope
from kami.jobs import JobSpec

__all__ = ["JOBS", "REPORT_KEY", "low_stock_report"]

REPORT_KEY = ("report", "low-stock")


async def low_stock_report(ctx: dict[str, Any], threshold: int = 5) -> int:
    """Write the list of products with fewer than ``threshold`` units; one replica at a time."""
    store = Store(ctx["backend"], "app-b")
    try:
        async with DistributedLock(ctx["backend"], "app-b:low-stock-report", ttl=120, wait=0):
            async with session_scope(ctx["settings"]) as session:
                levels = await ProductService(session=session).low_stock(threshold)
            report = LowStockReport(generated_at=time.time(), threshold=threshold, products=levels)
            await store.backend.set(store.key(*REPORT_KEY), msgspec.json.encode(report), ttl=86400)
            return len(levels)
    except LockNotAcquiredError:
        return -1  # another replica is writing the same report right now


JOBS = [JobSpec(low_stock_report, retries=3, retry_delay=2.0, timeout=120, cron="*/10 * * * *")]
