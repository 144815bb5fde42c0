"""Whether a database driver's own exception means the connection is gone or was never made.

SQLAlchemy usually wraps driver errors in its ``DBAPIError`` classes and flags disconnects; some paths
let the raw driver exception through (a pool checkout during an outage, the lean read path), and the
dialect's own check expects the wrapped classes. This recognises the raw ones for every backend kami
supports, so an outage answers 503 and dead pooled connections are replaced.
"""

from __future__ import annotations

import socket

__all__ = ["is_driver_disconnect"]

_ASYNCPG_LOST = frozenset({"ConnectionDoesNotExistError", "ConnectionFailureError", "CannotConnectNowError"})


def is_driver_disconnect(exc: BaseException) -> bool:
    # Network failures only: a FileNotFoundError (also an OSError) is a bug, not an outage.
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    if (
        code is not None
        and 2000 <= code < 3000
        and type(exc).__name__.endswith(("OperationalError", "InterfaceError"))
    ):
        return True  # MySQL client errors (CR_*): cannot connect, server gone away, lost connection
    return type(exc).__name__ in _ASYNCPG_LOST
