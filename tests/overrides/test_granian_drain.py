"""kami.overrides.granian_drain: Granian still stops through the handler kami overrides, and the
override delays it by the drain."""

from __future__ import annotations

import inspect
import signal
import time

import granian._signals
from granian.server.common import AbstractServer

from kami.overrides.granian_drain import DrainingGranian
from tests.support.waiting import wait_until


def test_tripwire_granian_routes_sigterm_to_signal_handler_interrupt() -> None:
    """If this fails, Granian no longer stops through ``signal_handler_interrupt`` on SIGTERM: the
    drain would silently stop happening."""
    assert signal.SIGTERM in granian._signals._get_signals()
    assert "set_main_signals(self.signal_handler_interrupt" in inspect.getsource(AbstractServer)


def test_the_first_sigterm_drains_then_stops_and_sigint_stops_at_once() -> None:
    drained: list[float] = []
    server = DrainingGranian(
        "kami.pipeline.app:create_app", factory=True, drain_seconds=1, on_drain=lambda: drained.append(1)
    )
    server.signal_handler_interrupt(signal.SIGTERM, None)
    assert drained == [1]
    assert not server.interrupt_signal  # still serving while balancers notice
    started = time.monotonic()
    assert wait_until(lambda: bool(server.interrupt_signal), seconds=5, interval=0.05)
    assert 0.8 < time.monotonic() - started < 3

    at_once = DrainingGranian(
        "kami.pipeline.app:create_app", factory=True, drain_seconds=30, on_drain=lambda: None
    )
    at_once.signal_handler_interrupt(signal.SIGINT, None)
    assert at_once.interrupt_signal
