"""Service-level objectives, declared once per app (``AppSpec.slo``), and the Prometheus rules made
from them: multi-window, multi-burn-rate alerts in two tiers (the method of Google's SRE workbook,
"Alerting on SLOs").

An objective allows a share of bad requests over 30 days (the error budget). A burn rate of 1 spends
it in exactly 30 days; the alerts fire when a long window shows a fast burn *and* a short window shows
it still going on (so an alert stops soon after the problem does):

- critical: 2% of the budget in 1 hour (burn 14.4, 1 h and 5 min) or 5% in 6 hours (burn 6, 6 h and
  30 min): someone acts now;
- warning: 10% in 3 days (burn 1, 3 days and 6 h) or 10% in 1 day (burn 3, 1 day and 2 h): a ticket.

The rules file is generated (``kami reference --write .`` writes ``infra/observability/slo-alerts.yaml``)
and checked by promtool; nothing here imports prometheus_client (apps import this module).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["REQUEST_DURATION_BUCKETS", "ServiceLevel", "slo_rules"]

REQUEST_DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""The buckets of ``kami_request_duration_seconds``: a latency objective's threshold is one of them,
so the share of requests within it is read exactly from the histogram."""

_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
# (severity, burn rate, long window, short window)
_BURNS = (
    ("critical", 14.4, "1h", "5m"),
    ("critical", 6.0, "6h", "30m"),
    ("warning", 3.0, "1d", "2h"),
    ("warning", 1.0, "3d", "6h"),
)


@dataclass(frozen=True)
class ServiceLevel:
    """An app's objectives over 30 days: ``availability`` of its requests answered without a 5xx,
    ``latency_target`` of them within ``latency_seconds``."""

    availability: float = 0.995
    latency_seconds: float = 0.25
    latency_target: float = 0.99

    def problems(self) -> list[str]:
        """What is wrong with the declaration (checked when the app loads)."""
        found = []
        for name, share in (("availability", self.availability), ("latency_target", self.latency_target)):
            if not 0.5 <= share < 1:
                found.append(f"{name} {share} is not a share between 0.5 and 1 (exclusive)")
        if self.latency_seconds not in REQUEST_DURATION_BUCKETS:
            found.append(
                f"latency_seconds {self.latency_seconds} is not a bucket of kami_request_duration_seconds "
                f"({', '.join(map(str, REQUEST_DURATION_BUCKETS))})"
            )
        return found


def _bucket_label(seconds: float) -> str:
    """How prometheus_client writes a bucket's ``le`` label (``0.25``, ``1.0``)."""
    return repr(float(seconds))


def slo_rules(objectives: Sequence[tuple[str, ServiceLevel]]) -> dict[str, Any]:
    """The Prometheus rule groups for ``(app name, objective)`` pairs: recording rules for each
    window's bad-request ratio, then the burn-rate alerts."""
    recording: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    for app, level in objectives:
        selector = f'app="{app}"'
        le = _bucket_label(level.latency_seconds)
        for window in _WINDOWS:
            ratios = {  # the share of bad requests in the window: answered 5xx, or slower than the threshold
                "errors": f'sum(rate(kami_requests_total{{{selector},status=~"5.."}}[{window}])) '
                f"/ clamp_min(sum(rate(kami_requests_total{{{selector}}}[{window}])), 1e-9)",
                "slow": f'1 - sum(rate(kami_request_duration_seconds_bucket{{{selector},le="{le}"}}'
                f"[{window}])) / clamp_min(sum(rate(kami_request_duration_seconds_count{{{selector}}}"
                f"[{window}])), 1e-9)",
            }
            recording += [
                {"record": f"kami_slo:{kind}:ratio_rate{window}", "expr": expr, "labels": {"app": app}}
                for kind, expr in ratios.items()
            ]
        for kind, budget, what in (
            ("errors", 1 - level.availability, f"{level.availability:.1%} of requests without a 5xx"),
            (
                "slow",
                1 - level.latency_target,
                f"{level.latency_target:.1%} of requests within {level.latency_seconds * 1000:g} ms",
            ),
        ):
            for severity in ("critical", "warning"):
                conditions = [
                    f"(kami_slo:{kind}:ratio_rate{long}{{{selector}}} > {burn * budget:.6g}"
                    f" and kami_slo:{kind}:ratio_rate{short}{{{selector}}} > {burn * budget:.6g})"
                    for tier, burn, long, short in _BURNS
                    if tier == severity
                ]
                name = f"KamiSlo{'Errors' if kind == 'errors' else 'Latency'}Budget{severity.title()}"
                alerts.append(
                    {
                        "alert": name,
                        "expr": "\nor\n".join(conditions) + "\n",
                        "labels": {"severity": severity, "app": app, "slo": kind},
                        "annotations": {
                            "summary": f"{app} is spending its error budget too fast "
                            f"(objective: {what} over 30 days)",
                            "runbook": f"docs/runbook.md#{name.lower()}",
                        },
                    }
                )
    return {
        "groups": [
            {"name": "kami-slo-recording", "interval": "30s", "rules": recording},
            {"name": "kami-slo-burn-rate", "rules": alerts},
        ]
    }
