"""kami.overrides.asyncmy_socket: asyncmy's RuntimeError while connecting is a lost connection."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from kami.db.errors import DatabaseFailure, classify
from kami.overrides.asyncmy_socket import SOCKET_GONE
from kami.pipeline.exception_handlers import to_envelope_response


def test_tripwire_asyncmy_still_raises_a_bare_runtime_error() -> None:
    """If this fails, asyncmy no longer raises RuntimeError for a closed socket while connecting:
    delete kami.overrides.asyncmy_socket."""
    spec = importlib.util.find_spec("asyncmy.connection")
    assert spec is not None
    assert spec.origin is not None
    source = Path(spec.origin).with_name("connection.pyx").read_text()
    assert f'raise RuntimeError("{SOCKET_GONE}")' in source


def test_the_runtime_error_is_a_database_outage() -> None:
    lost = RuntimeError(SOCKET_GONE)
    assert classify(lost) is DatabaseFailure.UNAVAILABLE
    answer = to_envelope_response(lost)
    assert answer.status_code == 503
    assert classify(RuntimeError("something else")) is None  # only that one
