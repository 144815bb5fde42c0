"""asyncmy's bare ``RuntimeError`` for a socket that closed while it was connecting, read as what it is.

While a connection is opened, asyncmy sets TCP options on the transport's socket; when the peer has
already closed the connection the transport has no socket left and asyncmy raises
``RuntimeError("Transport does not expose socket instance")`` instead of a DBAPI ``OperationalError``.
SQLAlchemy passes it through unwrapped, so a request that needed a new connection while MariaDB was
cut was answered 500 / 9000 instead of 503 / 5001 (tests/deploy/test_fault_reports.py, 2 runs in 3
on one machine).

Overrides: :func:`kami.db.errors.classify` counts that ``RuntimeError`` as a lost connection.
Upstream: none filed (asyncmy's ``_set_keep_alive`` / ``_set_nodelay`` in connection.pyx).
Written for: asyncmy 0.2.18.
Tripwire: tests/overrides/test_asyncmy_socket.py — fails once asyncmy no longer raises that
RuntimeError (then delete this module).
"""

from __future__ import annotations

__all__ = ["SOCKET_GONE", "is_socket_gone"]

SOCKET_GONE = "Transport does not expose socket instance"


def is_socket_gone(exc: BaseException) -> bool:
    return type(exc) is RuntimeError and str(exc) == SOCKET_GONE
