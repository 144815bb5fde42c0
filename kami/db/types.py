"""Column types kami needs beyond advanced-alchemy's."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import String
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

__all__ = ["PreciseDateTimeUTC", "exact_string"]


def exact_string(length: int) -> TypeEngine[str]:
    """A string compared byte for byte on every database: MySQL/MariaDB's default collations ignore
    accents and case (``mía`` equals ``mia`` there, not on PostgreSQL or SQLite), so a unique column
    that must mean the same everywhere takes ``utf8mb4_bin`` there."""
    return String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb")


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
