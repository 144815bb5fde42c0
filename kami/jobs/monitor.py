"""What ``kami worker`` shows the outside: ``/health/live`` and ``/metrics`` on ``KAMI_JOBS_PORT``.

The worker serves no HTTP otherwise, so a :class:`kami.observability.side_server.SideServer` answers
for it. Liveness is the worker's event loop beating:
the sampler that reads the queue's depth every few seconds also stamps the time, and a loop that
stopped turning (a job blocking it) stops the beat — the probe then answers 503 and the orchestrator
restarts the process. A Redis outage does not stop the beat: restarting would not bring Redis back.
"""

from __future__ import annotations

import asyncio
import time

import structlog
from saq import Queue

from kami.jobs import dead_letters
from kami.observability.side_server import Answer, SideServer, metrics_answer
from kami.store.backend import Backend

__all__ = ["SAMPLE_SECONDS", "WorkerMonitor"]

log = structlog.get_logger("kami.jobs")
SAMPLE_SECONDS = 5.0
_STALE_AFTER = 6 * SAMPLE_SECONDS  # liveness fails when the loop has not beaten for this long


class WorkerMonitor:
    """Samples the queue into ``kami_jobs{state}`` and answers the probes and scrapes."""

    def __init__(self, queue: Queue, backend: Backend) -> None:
        self.queue = queue
        self.backend = backend
        self.beat = time.monotonic()
        self._server: SideServer | None = None

    async def sample_forever(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(SAMPLE_SECONDS)

    async def sample(self) -> None:
        # Imported here: prometheus_client picks its multiprocess storage when first imported, and
        # `kami serve` (which imports this module) prepares that storage first.
        from kami.observability.metrics import JOBS

        self.beat = time.monotonic()
        try:
            queued = await self.queue.count("queued")
            active = await self.queue.count("active")
            incomplete = await self.queue.count("incomplete")
            dead = len(await dead_letters.read_all(self.backend))
        except Exception as exc:  # Redis away: keep the last figures, say so once per sample
            log.warning("cannot read the job queue", error=str(exc))
            return
        JOBS.labels("queued").set(queued)
        JOBS.labels("active").set(active)
        JOBS.labels("scheduled").set(max(incomplete - queued - active, 0))
        JOBS.labels("dead").set(dead)

    @property
    def alive(self) -> bool:
        return time.monotonic() - self.beat < _STALE_AFTER

    def serve(self, host: str, port: int) -> int:
        """Answer ``/health/live`` and ``/metrics`` on ``host:port`` from a thread; the port bound."""
        self._server = SideServer({"/metrics": metrics_answer, "/health/live": self._liveness})
        return self._server.serve(host, port, "kami-worker-http")

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    def _liveness(self) -> Answer:
        if self.alive:
            return "200 OK", "application/json", b'{"status":"ok"}'
        return "503 Service Unavailable", "application/json", b'{"status":"stuck"}'
