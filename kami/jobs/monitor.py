"""What ``kami worker`` shows the outside: ``/health/live`` and ``/metrics`` on ``KAMI_JOBS_PORT``.

The worker serves no HTTP otherwise, so a small WSGI server (the standard library's, in a thread,
with prometheus_client's exposition) answers for it. Liveness is the worker's event loop beating:
the sampler that reads the queue's depth every few seconds also stamps the time, and a loop that
stopped turning (a job blocking it) stops the beat — the probe then answers 503 and the orchestrator
restarts the process. A Redis outage does not stop the beat: restarting would not bring Redis back.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from saq import Queue

from kami.jobs import dead_letters
from kami.store.backend import Backend

__all__ = ["SAMPLE_SECONDS", "WorkerMonitor"]

log = structlog.get_logger("kami.jobs")
SAMPLE_SECONDS = 5.0
_STALE_AFTER = 6 * SAMPLE_SECONDS  # liveness fails when the loop has not beaten for this long

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes and scrapes every few seconds are not news: no access line for them."""


class WorkerMonitor:
    """Samples the queue into ``kami_jobs{state}`` and answers the probes and scrapes."""

    def __init__(self, queue: Queue, backend: Backend) -> None:
        self.queue = queue
        self.backend = backend
        self.beat = time.monotonic()
        self._server: WSGIServer | None = None

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
        """Answer on ``host:port`` from a thread; the port bound (``port`` 0 picks a free one)."""
        self._server = make_server(host, port, self._app, server_class=_Server, handler_class=_QuietHandler)
        threading.Thread(target=self._server.serve_forever, name="kami-worker-http", daemon=True).start()
        return int(self._server.server_address[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return _answer(start_response, "200 OK", CONTENT_TYPE_LATEST, generate_latest())
        if path == "/health/live":
            if self.alive:
                return _answer(start_response, "200 OK", "application/json", b'{"status":"ok"}')
            return _answer(
                start_response, "503 Service Unavailable", "application/json", b'{"status":"stuck"}'
            )
        return _answer(start_response, "404 Not Found", "text/plain", b"not found\n")


def _answer(start_response: StartResponse, status: str, media_type: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", media_type), ("Content-Length", str(len(body)))])
    return [body]
