"""Granian whose first SIGTERM starts a drain instead of closing the listener at once.

Granian closes its listener the moment SIGTERM arrives, so a load balancer that still routes to the
instance sees refused connections. This server instead calls ``on_drain`` (kami marks itself as
draining, so ``/health/ready`` answers 503), keeps serving for ``drain_seconds`` while balancers
notice, and only then lets Granian stop as usual. SIGINT and a second SIGTERM stop at once.

Overrides: ``Granian.signal_handler_interrupt`` (the server's signal handler; not a documented hook).
Upstream: Granian has no drain-before-close phase; its graceful-stop work covers what happens after
the listener closes (https://github.com/emmett-framework/granian/issues/518,
https://github.com/emmett-framework/granian/pull/612).
Written for: granian 2.8.7.
Tripwire: tests/overrides/test_granian_drain.py — fails when Granian's server class no longer has
this handler (with this signature); the SIGTERM test in tests/deploy proves the drain end to end.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from granian import Granian

__all__ = ["DrainingGranian"]


class DrainingGranian(Granian):  # type: ignore[misc,valid-type]  # granian: untyped, chosen at import
    def __init__(self, *args: Any, drain_seconds: int, on_drain: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drain_seconds = drain_seconds
        self._on_drain = on_drain
        self._draining = False

    def signal_handler_interrupt(self, signum: int | None = None, *args: Any) -> None:
        if signum == signal.SIGTERM and self._drain_seconds > 0 and not self._draining:
            self._draining = True
            self._on_drain()
            stop = threading.Timer(self._drain_seconds, super().signal_handler_interrupt)
            stop.daemon = True
            stop.start()
            return
        super().signal_handler_interrupt()
