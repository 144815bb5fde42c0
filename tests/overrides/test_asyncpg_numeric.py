"""kami.overrides.asyncpg_numeric: asyncpg's Numeric still wants a type OID to build its processor."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Numeric
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from kami.overrides.asyncpg_numeric import result_processor


def test_tripwire_asyncpg_numeric_needs_the_oid() -> None:
    """If this fails, the dialect builds the processor without an OID: drop the override."""
    dialect = asyncpg_dialect()
    with pytest.raises(TypeError):
        Numeric(12, 2).dialect_impl(dialect).result_processor(dialect, None)
    process = result_processor(Numeric(12, 2), dialect)
    assert process is None or isinstance(process(Decimal("1.25")), Decimal)
