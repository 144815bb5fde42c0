"""Column types kami needs beyond advanced-alchemy's."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

__all__ = ["PreciseDateTimeUTC"]


class PreciseDateTimeUTC(DateTimeUTC):
    """``DateTimeUTC`` that keeps microseconds on MySQL/MariaDB (``DATETIME(6)``).

    advanced-alchemy's type maps to plain ``DATETIME`` there, which truncates to whole seconds: rows
    created in the same second would then sort in no defined order.
    """

    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return super().load_dialect_impl(dialect)
