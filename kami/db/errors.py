"""What a database failure means, decided in one place for every backend and every path.

SQLAlchemy wraps driver errors in its ``DBAPIError`` classes, but some paths let the raw driver
exception through (a pool checkout during an outage, the statements kami sends to the driver itself),
and advanced-alchemy wraps a lost connection as its ``IntegrityError``. :func:`classify` looks down the
whole exception chain and answers with one :class:`DatabaseFailure`; the error handlers, the lean
paths, the transaction retry and the start-up diagnostics all ask it, nothing else decides.
"""

from __future__ import annotations

import enum
import socket
from collections.abc import Iterator
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect

from kami.overrides.asyncmy_socket import is_socket_gone

__all__ = [
    "DatabaseFailure",
    "classify",
    "connection_problem",
    "driver_error",
    "exception_chain",
    "is_disconnect",
]


class DatabaseFailure(enum.Enum):
    UNAVAILABLE = "unavailable"  # cannot connect, connection lost, no answer in time: retry later
    LOCK_CONFLICT = "lock conflict"  # deadlock victim or lock wait timeout: the transaction may run again
    DUPLICATE = "duplicate"  # a unique key already holds this value
    INTEGRITY = "integrity"  # another constraint refused the write (foreign key, check)
    TIMEOUT = "timeout"  # the server stopped a statement at KAMI_DATABASE_STATEMENT_TIMEOUT


def exception_chain(exc: BaseException, depth: int = 8) -> Iterator[BaseException]:
    """The exception and what caused it, outermost first (drivers' errors sit a few levels down)."""
    seen: BaseException | None = exc
    for _ in range(depth):
        if seen is None:
            return
        yield seen
        seen = seen.__cause__ or seen.__context__


_ASYNCPG_LOST = frozenset({"ConnectionDoesNotExistError", "ConnectionFailureError", "CannotConnectNowError"})
_MYSQL_LOCK_CODES = frozenset({1205, 1213})  # lock wait timeout, deadlock
_PG_LOCK_STATES = frozenset({"40P01", "55P03", "40001"})  # deadlock, lock not available, serialization
_DUPLICATE_MARKERS = ("duplicate entry", "duplicate key", "unique constraint", "23505", "(1062")
# MariaDB's max_statement_time, MySQL's max_execution_time; PostgreSQL's query_canceled (the
# statement_timeout; a cancel request too, which kami never sends).
_MYSQL_TIMEOUT_CODES = frozenset({1969, 3024})
_PG_TIMEOUT_STATE = "57014"
_UNREACHABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def _code(exc: BaseException) -> int | None:
    return exc.args[0] if exc.args and isinstance(exc.args[0], int) else None


def _driver_lost(exc: BaseException) -> bool:
    """A raw driver exception that means the connection is gone or was never made."""
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True  # network failures only: a FileNotFoundError (also an OSError) is a bug, not an outage
    code = _code(exc)
    if (
        code is not None
        and 2000 <= code < 3000
        and type(exc).__name__.endswith(("OperationalError", "InterfaceError"))
    ):
        return True  # MySQL client errors (CR_*): cannot connect, server gone away, lost connection
    return type(exc).__name__ in _ASYNCPG_LOST or is_socket_gone(exc)


def _lock_conflict(exc: BaseException) -> bool:
    if _code(exc) in _MYSQL_LOCK_CODES and type(exc).__name__.endswith("OperationalError"):
        return True
    if getattr(exc, "sqlstate", None) in _PG_LOCK_STATES:  # asyncpg's own exceptions
        return True
    return type(exc).__name__ == "OperationalError" and "database is locked" in str(exc)  # SQLite


def _statement_timeout(exc: BaseException) -> bool:
    if _code(exc) in _MYSQL_TIMEOUT_CODES:
        return True
    return getattr(exc, "sqlstate", None) == _PG_TIMEOUT_STATE


def is_disconnect(exc: BaseException, dialect: Dialect | None = None) -> bool:
    """The connection ``exc`` came from is dead (it must be discarded, not given back to the pool)."""
    if dialect is not None and dialect.is_disconnect(exc, None, None):  # type: ignore[arg-type]
        return True
    return _driver_lost(exc) or (isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated)


def classify(exc: BaseException) -> DatabaseFailure | None:
    """What ``exc`` means for the caller, or None when it is not a database failure kami knows."""
    chain = list(exception_chain(exc))
    if any(_lock_conflict(cause) for cause in chain):
        return DatabaseFailure.LOCK_CONFLICT
    if any(_statement_timeout(cause) for cause in chain):
        return DatabaseFailure.TIMEOUT
    if any(isinstance(cause, _UNREACHABLE) or is_disconnect(cause) for cause in chain):
        return DatabaseFailure.UNAVAILABLE
    if not any(
        isinstance(cause, sa_exc.IntegrityError) or type(cause).__name__ == "IntegrityError"
        for cause in chain
    ):
        return None
    if any(marker in str(cause).lower() for cause in chain[:4] for marker in _DUPLICATE_MARKERS):
        return DatabaseFailure.DUPLICATE
    return DatabaseFailure.INTEGRITY


def driver_error(sql: str, params: Any, exc: Exception, base: type[Exception], *, lost: bool) -> Exception:
    """SQLAlchemy's exception for a driver's (``IntegrityError`` stays ``IntegrityError``, and so on),
    for the paths that call the driver themselves."""
    return sa_exc.DBAPIError.instance(sql, params, exc, base, connection_invalidated=lost)


_ACCESS_DENIED = "access denied — check KAMI_DATABASE_USER and KAMI_DATABASE_PASSWORD"
_NO_DATABASE = "the database does not exist — create it, or check KAMI_DATABASE_NAME"
_MYSQL_EXPLAINED = {1045: _ACCESS_DENIED, 1049: _NO_DATABASE}
_PG_EXPLAINED = {"InvalidPasswordError": _ACCESS_DENIED, "InvalidCatalogNameError": _NO_DATABASE}


def connection_problem(exc: BaseException, timeout: float) -> tuple[str, bool]:
    """Why a connection (to a database, or to Redis) could not be made, for a person: ``(what went
    wrong, whether it is about reaching the server at all)`` — the second decides the "is it running?"
    hint."""
    for cause in exception_chain(exc):
        if isinstance(cause, ConnectionRefusedError) or _code(cause) == 2003:  # 2003: MySQL "can't connect"
            return "connection refused", True
        if isinstance(cause, socket.gaierror):
            return "unknown host", True
        if isinstance(cause, TimeoutError):
            return f"no answer within {timeout:g} s", True
        explained = _MYSQL_EXPLAINED.get(_code(cause) or 0) or _PG_EXPLAINED.get(type(cause).__name__)
        if explained:
            return explained, False
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower(), True
    return f"{type(exc).__name__}: {exc}", False
