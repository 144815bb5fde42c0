"""Granian configured from settings, with a drain phase before shutdown.

Granian closes its listener the moment SIGTERM arrives, so a load balancer that still routes to the
instance sees refused connections. kami's main process instead marks itself as draining (a marker
file every worker's ``/health/ready`` checks), keeps serving for ``KAMI_SERVER_DRAIN_SECONDS`` so
balancers see readiness fail and stop sending, and only then lets Granian close the listener,
finish in-flight requests within ``KAMI_SERVER_GRACEFUL_TIMEOUT`` and run the workers' shutdown.
SIGINT (Ctrl-C) and a second SIGTERM skip the drain.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import structlog
from granian import Granian
from granian.constants import Interfaces
from granian.http import HTTP1Settings

from kami.settings import Settings

__all__ = ["DRAIN_MARKER_VARIABLE", "is_draining", "serve"]

# Set by the main process for its workers: the file whose existence means "draining".
DRAIN_MARKER_VARIABLE = "KAMI_DRAIN_MARKER"

log = structlog.get_logger("kami.cli.serving")


def is_draining() -> bool:
    """True once this server's main process received SIGTERM (checked by ``/health/ready``)."""
    marker = os.environ.get(DRAIN_MARKER_VARIABLE)
    return marker is not None and os.path.exists(marker)


class _DrainingGranian(Granian):  # type: ignore[misc,valid-type]  # granian: untyped, chosen at import
    """Granian whose first SIGTERM starts a drain instead of stopping at once."""

    def __init__(self, *args: Any, drain_seconds: int, marker: Path, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drain_seconds = drain_seconds
        self._marker = marker
        self._draining = False

    def signal_handler_interrupt(self, signum: int | None = None, *args: Any) -> None:
        if signum == signal.SIGTERM and self._drain_seconds > 0 and not self._draining:
            self._draining = True
            self._marker.touch()
            log.info("draining: readiness answers 503", seconds=self._drain_seconds)
            stop = threading.Timer(self._drain_seconds, super().signal_handler_interrupt)
            stop.daemon = True
            stop.start()
            return
        super().signal_handler_interrupt()


def serve(settings: Settings, *, host: str | None, port: int | None, workers: int | None) -> None:
    """Run ``kami.pipeline.app:create_app`` under Granian until stopped (blocks; exits on error)."""
    from kami.observability.logging import granian_log_config

    server = settings.server
    marker = Path(settings.app.data_dir).resolve() / f"draining.{os.getpid()}"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    os.environ[DRAIN_MARKER_VARIABLE] = str(marker)  # inherited by the workers Granian spawns
    count = settings.worker_count(workers)
    log.info("serving", workers=count, store="redis" if settings.redis.url else "in-memory (one process)")
    granian = _DrainingGranian(
        target="kami.pipeline.app:create_app",
        factory=True,
        address=host or server.host,
        port=port or server.port,
        interface=Interfaces.ASGI,
        workers=count,
        backlog=server.backlog,
        http1_settings=HTTP1Settings(keep_alive=server.keep_alive),
        respawn_failed_workers=True,
        workers_kill_timeout=server.graceful_timeout,
        workers_max_rss=server.workers_max_rss or None,
        log_access=False,  # kami writes its own access line (route template, trace id, no headers)
        log_dictconfig=granian_log_config(settings),
        drain_seconds=server.drain_seconds,
        marker=marker,
    )
    try:
        granian.serve()
    finally:
        marker.unlink(missing_ok=True)
