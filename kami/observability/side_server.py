"""A small HTTP server on a port of its own, in a thread: what a process shows its orchestrator and
Prometheus beside (or instead of) its service — ``kami worker``'s probes and metrics, and ``kami
serve``'s metrics, which production keeps off the app's public port.

The standard library's WSGI server is enough for a probe every few seconds and a scrape every
fifteen; it answers the paths it is given and 404 to the rest.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

__all__ = ["Answer", "SideServer", "metrics_answer"]

Answer = tuple[str, str, bytes]  # status line, media type, body
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes and scrapes every few seconds are not news: no access line for them."""


class SideServer:
    def __init__(self, routes: Mapping[str, Callable[[], Answer]]) -> None:
        self.routes = dict(routes)
        self._server: WSGIServer | None = None

    def serve(self, host: str, port: int, name: str) -> int:
        """Answer on ``host:port`` from a daemon thread; the port bound (``port`` 0 picks a free one)."""
        self._server = make_server(host, port, self._app, server_class=_Server, handler_class=_QuietHandler)
        threading.Thread(target=self._server.serve_forever, name=name, daemon=True).start()
        return int(self._server.server_address[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        route = self.routes.get(environ.get("PATH_INFO", ""))
        status, media_type, body = route() if route else ("404 Not Found", "text/plain", b"not found\n")
        start_response(status, [("Content-Type", media_type), ("Content-Length", str(len(body)))])
        return [body]


def metrics_answer() -> Answer:
    """The Prometheus exposition: every worker's samples when they share a multiprocess folder
    (``kami serve``), this process's otherwise."""
    # Imported on use: prometheus_client picks its multiprocess storage when first imported, and
    # `kami serve` prepares that folder first (kami.observability.prometheus_dir).
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return "200 OK", CONTENT_TYPE_LATEST, generate_latest(registry)
    return "200 OK", CONTENT_TYPE_LATEST, generate_latest()
