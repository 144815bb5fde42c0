"""Service-level objectives: checked when an app loads, and the burn-rate rules made from them."""

from __future__ import annotations

import sys
import types

import pytest

from kami import AppSpec
from kami.app_spec import AppLoadError, load_apps
from kami.observability.slo import ServiceLevel, slo_rules


@pytest.mark.parametrize(
    ("level", "complaint"),
    [
        (ServiceLevel(latency_seconds=0.3), "not a bucket of kami_request_duration_seconds"),
        (ServiceLevel(availability=1.0), "availability 1.0 is not a share"),
        (ServiceLevel(latency_target=0.2), "latency_target 0.2 is not a share"),
    ],
)
def test_an_objective_the_metrics_cannot_measure_stops_the_app_loading(
    level: ServiceLevel, complaint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType("slo_declaring_app")
    module.app = AppSpec(  # type: ignore[attr-defined]
        name="sloapp", prefix="/sloapp", code_range=range(95000, 95100), route_handlers=[], slo=level
    )
    monkeypatch.setitem(sys.modules, "slo_declaring_app", module)
    with pytest.raises(AppLoadError, match=complaint):
        load_apps(["slo_declaring_app"])


def test_burn_rates_follow_the_budget() -> None:
    """99.9% availability: a 0.1% budget, so the fast critical pair fires above 1.44% errors (14.4x)
    and the slowest warning pair above 0.1% (1x)."""
    groups = slo_rules([("shop", ServiceLevel(availability=0.999, latency_seconds=0.5, latency_target=0.95))])
    records = {rule["record"] for rule in groups["groups"][0]["rules"]}
    assert "kami_slo:errors:ratio_rate5m" in records
    assert "kami_slo:slow:ratio_rate3d" in records
    alerts = {rule["alert"]: rule for rule in groups["groups"][1]["rules"]}
    critical = alerts["KamiSloErrorsBudgetCritical"]["expr"]
    assert 'kami_slo:errors:ratio_rate1h{app="shop"} > 0.0144' in critical
    assert 'kami_slo:errors:ratio_rate30m{app="shop"} > 0.006' in critical
    warning = alerts["KamiSloErrorsBudgetWarning"]["expr"]
    assert 'kami_slo:errors:ratio_rate3d{app="shop"} > 0.001' in warning
    slow = alerts["KamiSloLatencyBudgetCritical"]["expr"]
    assert 'kami_slo:slow:ratio_rate5m{app="shop"} > 0.72' in slow  # 14.4 x 5%
    latency_rule = next(
        r for r in groups["groups"][0]["rules"] if r["record"] == "kami_slo:slow:ratio_rate1h"
    )
    assert 'le="0.5"' in latency_rule["expr"]


def test_the_threshold_names_a_bucket_as_prometheus_client_writes_it() -> None:
    from prometheus_client import generate_latest

    from kami.observability.metrics import record_request

    record_request("GET", "/slo-probe", 200, "slo-probe", 0.2)
    exposition = generate_latest().decode()
    for seconds in (0.25, 1.0):
        rule = slo_rules([("slo-probe", ServiceLevel(latency_seconds=seconds))])["groups"][0]["rules"][1]
        bucket = rule["expr"].split("{", 1)[1].split("}", 1)[0].split(",")[1]  # le="..."
        assert f'app="slo-probe",{bucket}' in exposition.replace('method="GET",route="/slo-probe",', "")
