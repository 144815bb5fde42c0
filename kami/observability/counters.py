"""In-process counters for platform events (cache hits, rate-limit rejections, store errors...).

Each is also exported to Prometheus as ``kami_events_total{event, label}``; labels are small, fixed sets.
"""

from __future__ import annotations

from collections import Counter
from threading import Lock
from typing import Any

__all__ = ["Counters", "counters"]


Key = tuple[str, tuple[tuple[str, str], ...]]


class Counters:
    def __init__(self) -> None:
        self._values: Counter[Key] = Counter()
        self._lock = Lock()

    def increment(self, name: str, amount: int = 1, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())) if labels else ())
        with self._lock:
            self._values[key] += amount
        _events(name, ",".join(f"{k}={v}" for k, v in key[1])).inc(amount)

    def value(self, name: str, **labels: str) -> int:
        wanted = set(labels.items())
        with self._lock:
            return sum(v for (n, found), v in self._values.items() if n == name and wanted <= set(found))


def _events(name: str, label: str) -> Any:
    # Imported on first use, not above: prometheus_client picks its multiprocess storage when it is
    # imported, and `kami serve` must prepare that folder first (kami.observability.prometheus_dir).
    from kami.observability.metrics import EVENTS, series

    return series(EVENTS, name, label)


counters = Counters()
