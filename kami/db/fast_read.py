"""The hot read path: fetch one row by primary key without the ORM.

Measured here, an ORM ``session.get`` costs 10x the driver's own time per row. This path keeps what
makes SQLAlchemy correct (the statement is compiled by the dialect, values go through the column
types' own bind and result processors) and drops what costs: sessions, the unit of work, and the
per-checkout round trips. It reads through a separate pool of autocommit connections (no BEGIN and
no ROLLBACK per read, no pre-ping; a connection found dead is discarded and the read retried once).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Table, bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import greenlet_spawn

from kami.db.driver_calls import Processor, driver_error, is_disconnect, result_processor, statement_span

__all__ = ["FastReader", "dispose_read_engines", "read_engine_for"]

_read_engines: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def read_engine_for(engine: AsyncEngine) -> AsyncEngine:
    """The autocommit read pool beside ``engine`` (same URL and pool size), created on first use."""
    reader = _read_engines.get(engine)
    if reader is None:
        pool = engine.pool
        options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT", "pool_pre_ping": False}
        if engine.dialect.name != "sqlite":
            options |= {"pool_size": pool.size(), "max_overflow": getattr(pool, "_max_overflow", 10)}  # type: ignore[attr-defined]
            options |= {"pool_reset_on_return": None, "pool_recycle": getattr(pool, "_recycle", 3600)}
        reader = create_async_engine(engine.url, **options)
        _read_engines[engine] = reader
    return reader


async def dispose_read_engines() -> None:
    for reader in list(_read_engines.values()):
        await reader.dispose()
    _read_engines.clear()


class FastReader:
    """``await reader.get(engine, id)`` -> ``{column: value}`` or ``None``, for one table."""

    def __init__(self, table: Table, columns: Sequence[Column[Any]] | None = None) -> None:
        self.table = table
        self.columns = list(columns or table.columns)
        self.names = [str(column.key) for column in self.columns]  # plain str: msgspec refuses subclasses
        (self.key,) = table.primary_key.columns
        self._compiled: dict[str, tuple[str, Processor, list[Processor]]] = {}
        self._last: tuple[AsyncEngine, AsyncEngine] | None = None  # (engine, its read pool): the usual case

    def _prepare(self, engine: AsyncEngine) -> tuple[str, Processor, list[Processor]]:
        dialect = engine.dialect
        cached = self._compiled.get(dialect.name)
        if cached is None:
            statement = select(*self.columns).where(self.key == bindparam("key"))
            sql = str(statement.compile(dialect=dialect))
            bind = self.key.type.dialect_impl(dialect).bind_processor(dialect)
            results = [result_processor(c.type, dialect) for c in self.columns]
            cached = self._compiled[dialect.name] = (sql, bind, results)
        return cached

    async def get(self, engine: AsyncEngine, key: Any) -> dict[str, Any] | None:
        sql, bind, results = self._prepare(engine)
        value = bind(key) if bind else key
        if self._last is None or self._last[0] is not engine:
            self._last = (engine, read_engine_for(engine))
        reader = self._last[1]
        with statement_span(engine.dialect, sql, f"SELECT {self.table.name}"):
            return await self._read(reader, sql, value, results)

    async def _read(
        self, reader: AsyncEngine, sql: str, value: Any, results: list[Processor]
    ) -> dict[str, Any] | None:
        for attempt in (1, 2):
            try:
                row = await self._fetch(reader, sql, value)
                break
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        else:  # pragma: no cover - the loop always breaks or raises
            return None
        if row is None:
            return None
        return {
            name: (process(raw) if process else raw)
            for name, process, raw in zip(self.names, results, row, strict=True)
        }

    async def _fetch(self, reader: AsyncEngine, sql: str, value: Any) -> Sequence[Any] | None:
        try:
            pooled = await reader.raw_connection()  # the pool's proxy: no Connection wrapper, no reset
        except reader.dialect.loaded_dbapi.Error as exc:  # e.g. refused, or "too many connections"
            raise driver_error(sql, (value,), exc, reader.dialect.loaded_dbapi.Error, lost=False) from exc
        driver: Any = pooled.driver_connection
        try:
            if reader.dialect.driver == "asyncpg":
                record = await driver.fetchrow(sql, value)
                return tuple(record) if record is not None else None
            if reader.dialect.driver == "aiosqlite":
                cursor = await driver.execute(sql, (value,))
            else:
                cursor = driver.cursor()
                await cursor.execute(sql, (value,))
            try:
                row: Sequence[Any] | None = await cursor.fetchone()
                return row
            finally:
                await cursor.close()
        except Exception as exc:
            if is_disconnect(reader.dialect, exc):
                await greenlet_spawn(pooled.invalidate, exc)
                raise driver_error(sql, (value,), exc, Exception, lost=True) from exc
            raise
        finally:
            # Giving a connection back may close it (an overflow connection, or an invalidated one),
            # and closing an async driver's connection is awaited inside SQLAlchemy: outside a greenlet
            # that fails and leaves the connection open on the server until it runs out of them.
            await greenlet_spawn(pooled.close)
