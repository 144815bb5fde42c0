"""Platform and business events (cache hits, rate-limit rejections, orders placed...) as one Prometheus
counter, ``kami_events_total{event, label}``; labels are small, fixed sets. Apps count theirs with
``kami.events.increment("orders_placed")``."""

from __future__ import annotations

__all__ = ["Events", "event_total", "events"]


class Events:
    def increment(self, name: str, amount: int = 1, **labels: str) -> None:
        # Imported on first use, not above: prometheus_client picks its multiprocess storage when it is
        # imported, and `kami serve` must prepare that folder first (kami.observability.prometheus_dir).
        from kami.observability.metrics import EVENTS, series

        label = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
        series(EVENTS, name, label).inc(amount)


def event_total(name: str, **labels: str) -> float:
    """How many ``name`` events with exactly these labels this process counted."""
    # Imported on first use: see Events.increment.
    from prometheus_client import REGISTRY

    label = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
    return REGISTRY.get_sample_value("kami_events_total", {"event": name, "label": label}) or 0.0


events = Events()
