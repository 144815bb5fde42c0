"""kami.overrides.otel_internals: the private OpenTelemetry pieces kami uses still exist and behave."""

from __future__ import annotations

import importlib.metadata
import inspect
import logging

import opentelemetry.sdk._shared_internal as sdk_internal
import pytest
import structlog
from packaging.requirements import Requirement

from kami.overrides.otel_internals import SDK_INTERNAL_LOGGER, QueueDropCounter, sampler_from_environment


def test_tripwire_the_sqlalchemy_instrumentation_still_refuses_this_sqlalchemy() -> None:
    """If this fails, the instrumentation admits the installed SQLAlchemy: use SQLAlchemyInstrumentor
    (per engine) instead of attaching EngineTracer by hand."""
    from opentelemetry.instrumentation.sqlalchemy.package import _instruments

    installed = importlib.metadata.version("sqlalchemy")
    assert not any(Requirement(spec).specifier.contains(installed) for spec in _instruments)


def test_tripwire_the_sampler_named_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    assert "0.25" in sampler_from_environment().get_description()


def test_tripwire_full_queues_are_reported_on_the_internal_logger() -> None:
    assert sdk_internal.__name__ == SDK_INTERNAL_LOGGER
    assert "Queue full" in inspect.getsource(sdk_internal)
    drops: list[int] = []
    counter = QueueDropCounter(lambda: drops.append(1))
    counter.emit(
        logging.LogRecord(SDK_INTERNAL_LOGGER, logging.WARNING, "", 0, "Queue full, dropping", None, None)
    )
    counter.emit(logging.LogRecord(SDK_INTERNAL_LOGGER, logging.WARNING, "", 0, "something else", None, None))
    assert drops == [1]


def test_tripwire_structlog_still_adds_the_extras_the_handler_drops() -> None:
    from kami.overrides import otel_internals

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    stdlib = logging.getLogger("kami-test-structlog-extras")
    stdlib.addHandler(Keep())
    stdlib.propagate = False
    structlog.stdlib.get_logger("kami-test-structlog-extras").bind().warning("hello")
    found = set(records[-1].__dict__) & otel_internals._STRUCTLOG_EXTRAS
    assert found, "structlog no longer adds these: OtlpLogHandler's filtering can go"
