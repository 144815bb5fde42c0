"""A short fault rehearsal (bench/fault_rehearsal.py): keyed orders through a database cut, a Redis cut,
a killed worker and a restarted server, on MariaDB; then every order is accounted for exactly once."""

from __future__ import annotations

from pathlib import Path

from bench.fault_rehearsal import rehearse
from tests.conftest import service_url


def test_keyed_orders_are_exactly_once_through_every_fault(tmp_path: Path) -> None:
    report = rehearse(service_url("mysql"), service_url("redis"), seconds=20, clients=6, folder=tmp_path)
    print(f"\nfault rehearsal: {report}")
    assert len(report.faults) == 4
    assert report.answered_201 > 20
    assert report.gave_up == 0
    assert report.keys_with_more_than_one_order == 0
    assert report.orders_nobody_was_told_about == 0
    assert report.orders_stored == report.answered_201
    assert report.stock_reconciled
    assert report.balances_reconciled
