"""App B's background work."""

from __future__ import annotations

from datetime import UTC, datetime

from apps.app_b.schemas import LowStockReport
from apps.app_b.services import ProductService
from kami.cache import DistributedLock, LockNotAcquiredError
from kami.jobs import JobContext, JobSpec

__all__ = ["JOBS", "REPORT_KEY", "low_stock_report"]

REPORT_KEY = ("report", "low-stock")


async def low_stock_report(context: JobContext, threshold: int = 5) -> int:
    """Write the list of products with fewer than ``threshold`` units; one replica at a time."""
    try:
        async with DistributedLock(context.store, "low-stock-report", ttl=120, wait=0):
            async with context.database() as session:
                levels = await ProductService(session=session).low_stock(threshold)
            report = LowStockReport(generated_at=datetime.now(UTC), threshold=threshold, products=levels)
            await context.store.put(*REPORT_KEY, value=report, ttl=86400)
            return len(levels)
    except LockNotAcquiredError:
        return -1  # another replica is writing the same report right now


JOBS = [JobSpec(low_stock_report, retries=3, retry_delay=2.0, timeout=120, cron="*/10 * * * *")]
