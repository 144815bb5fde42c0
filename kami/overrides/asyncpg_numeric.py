"""A column type's result processor for code that reads rows from the driver itself.

asyncpg's ``Numeric`` asks for the column's type OID, which only a cursor description would give;
kami's lean path reads without SQLAlchemy's cursor, so it passes NUMERIC's fixed OID (1700).

Overrides: calls ``TypeEngine.result_processor(dialect, coltype)`` with a made-up ``coltype`` where the
dialect needs one.
Upstream: none filed (asyncpg's dialect uses the OID to choose between Decimal and float).
Written for: SQLAlchemy 2.1.9, asyncpg 0.32.0.
Tripwire: tests/overrides/test_asyncpg_numeric.py — fails once the asyncpg dialect's Numeric no
longer needs the OID (then call it with ``None`` like the others).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Dialect

__all__ = ["PG_NUMERIC_OID", "result_processor"]

PG_NUMERIC_OID = 1700


def result_processor(column_type: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    impl = column_type.dialect_impl(dialect)
    try:
        return impl.result_processor(dialect, None)  # type: ignore[no-any-return]
    except TypeError:
        return impl.result_processor(dialect, PG_NUMERIC_OID)  # type: ignore[no-any-return]
