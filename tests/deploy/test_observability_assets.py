"""The Grafana dashboard and the Prometheus alert rules: valid, and built only on what kami exports."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml
from litestar.testing import TestClient

from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.conftest import tool_path

ROOT = Path(__file__).parents[2]
FOLDER = ROOT / "infra" / "observability"
ALERTS = FOLDER / "alerts.yaml"
SLO_ALERTS = FOLDER / "slo-alerts.yaml"  # generated from AppSpec.slo (tests/cli/test_reference.py)
DASHBOARD = json.loads((FOLDER / "grafana-dashboard.json").read_text())


def _rules() -> list[dict[str, str]]:
    return [
        rule
        for path in (ALERTS, SLO_ALERTS)
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def _expressions() -> list[str]:
    panels = [target["expr"] for panel in DASHBOARD["panels"] for target in panel["targets"]]
    return [rule["expr"] for rule in _rules()] + panels


def _exported_series(sqlite_settings: Settings) -> set[str]:
    """Series names in kami's /metrics exposition, from its TYPE lines (present before any traffic)."""
    with TestClient(create_app(sqlite_settings)) as client:
        client.get("/health/ready")
        text = client.get("/metrics").text
    names: set[str] = set()
    for family, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        family = family.removesuffix("_total")  # prometheus_client names counter families both ways
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}.get(kind, [""])
        names |= {family + suffix for suffix in suffixes}
    return names


def test_alert_rules_pass_promtool() -> None:
    promtool = tool_path("promtool", provided_by="Debian's prometheus package")
    result = subprocess.run(
        [promtool, "check", "rules", str(ALERTS), str(SLO_ALERTS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == 2
    alerts = [rule for rule in _rules() if "alert" in rule]
    assert {rule["labels"]["severity"] for rule in alerts} == {"critical", "warning"}


def test_every_app_has_burn_rate_alerts_in_both_tiers() -> None:
    from kami.app_spec import load_apps
    from kami.settings import load_settings

    apps = {spec.name for spec in load_apps(load_settings({"KAMI_ENV_FILE": "/nonexistent"}).app.apps)}
    burn = [rule for rule in _rules() if rule.get("alert", "").startswith("KamiSlo")]
    for app in apps:
        tiers = {
            (rule["labels"]["slo"], rule["labels"]["severity"])
            for rule in burn
            if rule["labels"]["app"] == app
        }
        assert tiers == {(slo, tier) for slo in ("errors", "slow") for tier in ("critical", "warning")}, app


def test_every_alert_has_a_runbook_entry() -> None:
    runbook = (ROOT / "docs" / "runbook.md").read_text().lower()
    for rule in (r for r in _rules() if "alert" in r):
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert f"### {rule['alert'].lower()}" in runbook or anchor in runbook.replace(" / ", ""), rule[
            "alert"
        ]


def test_dashboard_is_well_formed() -> None:
    ids = [panel["id"] for panel in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    assert DASHBOARD["uid"] == "kami-overview"
    titles = " ".join(panel["title"].lower() for panel in DASHBOARD["panels"])
    for topic in (
        "requests per second",
        "error",
        "p50",
        "p95",
        "p99",
        "database pool",
        "redis store connection",
        "rate-limit",
        "cache hit",
        "dropped spans",
        "readiness",
        "job queue",
        "dead letters",
        "job duration",
        "database query",
    ):
        assert topic in titles, topic
    for panel in DASHBOARD["panels"]:
        assert panel["datasource"]["type"] == "prometheus"
        assert panel["targets"], panel["title"]


def test_dashboard_and_alerts_use_only_what_kami_exports(sqlite_settings: Settings) -> None:
    exported = _exported_series(sqlite_settings)
    exported |= {rule["record"] for rule in _rules() if "record" in rule}  # recording rules' series
    sources = "\n".join(p.read_text() for p in (ROOT / "kami").rglob("*.py"))
    for expression in _expressions():
        for name in re.findall(r"\b(kami_[a-z_:0-9]+)", expression):
            assert name in exported, f"{name} is not exported (in: {expression})"
        for names in re.findall(r'event=~?"([^"]+)"', expression):
            for event in names.split("|"):
                assert f'increment("{event}"' in sources, f"no event {event!r} is ever counted"
        for state in re.findall(r'state="([^"]+)"', expression):
            assert f'"{state}"' in sources, f"no pool state {state!r} is ever set"
