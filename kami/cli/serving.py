"""Granian configured from settings, with a drain phase before shutdown.

On SIGTERM kami's main process marks itself as draining (a marker file every worker's
``/health/ready`` checks, see :mod:`kami.runtime`), keeps serving for ``KAMI_SERVER_DRAIN_SECONDS`` so
balancers see readiness fail and stop sending, and only then lets Granian close the listener, finish
in-flight requests within ``KAMI_SERVER_GRACEFUL_TIMEOUT`` and run the workers' shutdown
(:mod:`kami.overrides.granian_drain`). SIGINT (Ctrl-C) and a second SIGTERM skip the drain.
"""

from __future__ import annotations

import os
from pathlib import Path

import structlog
from granian.constants import Interfaces
from granian.http import HTTP1Settings

from kami.observability.logging import granian_log_config
from kami.observability.side_server import SideServer, metrics_answer
from kami.overrides.granian_drain import DrainingGranian
from kami.pipeline.runtime import DRAIN_MARKER_VARIABLE
from kami.settings import Settings

__all__ = ["serve"]

log = structlog.get_logger("kami.cli.serving")


def _serve_metrics(settings: Settings, host: str) -> SideServer | None:
    """``/metrics`` on ``KAMI_SERVER_METRICS_PORT`` from this (the main) process. A port already taken
    stops production, where it is the only way to the metrics; elsewhere the app's own ``/metrics``
    remains, and a warning says so."""
    port = settings.server.metrics_port
    if not port:
        return None
    metrics = SideServer({"/metrics": metrics_answer})
    try:
        metrics.serve(host, port, "kami-metrics")
    except OSError as exc:
        problem = f"KAMI_SERVER_METRICS_PORT: cannot listen on {host}:{port} ({exc.strerror})"
        if settings.is_production:
            raise SystemExit(f"kami: {problem}") from exc
        log.warning(f"{problem}; /metrics is on the app's port")
        return None
    log.info("metrics", port=port)
    return metrics


def serve(settings: Settings, *, host: str | None, port: int | None, workers: int | None) -> None:
    """Run ``kami.pipeline.app:create_app`` under Granian until stopped (blocks; exits on error)."""
    server = settings.server
    marker = Path(settings.app.data_dir).resolve() / f"draining.{os.getpid()}"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    os.environ[DRAIN_MARKER_VARIABLE] = str(marker)  # inherited by the workers Granian spawns
    count = settings.worker_count(workers)
    log.info("serving", workers=count, store="redis" if settings.redis.url else "in-memory (one process)")

    def drain() -> None:
        marker.touch()
        log.info("draining: readiness answers 503", seconds=server.drain_seconds)

    granian = DrainingGranian(
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
        on_drain=drain,
    )
    metrics = _serve_metrics(settings, host or server.host)
    try:
        granian.serve()
    finally:
        marker.unlink(missing_ok=True)
        if metrics is not None:
            metrics.close()
