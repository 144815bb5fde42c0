"""Repositories: advanced-alchemy's async repository, plus per-app scoping for ``AppScoped`` models."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import Table, bindparam, insert, inspect, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from kami.db.driver_calls import python_default
from kami.db.models import AppScoped, Model
from kami.db.precompiled import Precompiled

__all__ = ["Repository"]

ModelT = TypeVar("ModelT", bound=Model)


class Repository(SQLAlchemyAsyncRepository[ModelT]):
    """Generic CRUD, filtering, sorting and counting for one model.

    For an :class:`AppScoped` model every query is limited to ``app_id`` and every insert or update is
    stamped with it, so one app can neither read nor write another app's rows.
    """

    def __init__(self, *, session: AsyncSession, app_id: str | None = None, **kwargs: Any) -> None:
        self.app_id = app_id
        if self.is_scoped:
            if not app_id:
                raise ValueError(f"{self.model_type.__name__} is app-scoped: its repository needs app_id")
            kwargs.setdefault("statement", select(self.model_type).where(self.model_type.app_id == app_id))  # type: ignore[attr-defined]
        super().__init__(session=session, **kwargs)

    @classmethod
    async def read_row(
        cls, session: AsyncSession, item_id: Any, app_id: str | None = None
    ) -> dict[str, Any] | None:
        """The row with this primary key as ``{column: value}``, read without the ORM (the hot path) and
        routed as the session routes (see :mod:`kami.db.precompiled`); app-scoped rows of another app
        are not found. It needs no repository instance."""
        statement, names = _by_primary_key(cls.model_type.__table__)  # type: ignore[arg-type]
        found = await statement.rows(session, {"key": item_id})
        if not found:
            return None
        row = dict(zip(names, found[0], strict=True))
        if issubclass(cls.model_type, AppScoped) and row.get("app_id") != app_id:
            return None
        return row

    @property
    def is_scoped(self) -> bool:
        return issubclass(self.model_type, AppScoped)

    def _stamp(self, items: Iterable[ModelT]) -> None:
        if self.is_scoped:
            for item in items:
                item.app_id = self.app_id  # type: ignore[attr-defined]

    async def add(self, data: ModelT, *args: Any, **kwargs: Any) -> ModelT:
        self._stamp([data])
        return await super().add(data, *args, **kwargs)

    async def add_many(self, data: list[ModelT], *args: Any, **kwargs: Any) -> Sequence[ModelT]:
        self._stamp(data)
        return await super().add_many(data, *args, **kwargs)

    async def insert(self, *items: ModelT) -> None:
        """Insert new rows with one statement, outside the unit of work: nothing is tracked, flushed
        or read back (``add`` does all three: ~1 ms per row here). Python-side column defaults (id,
        timestamps, ``default=`` values) are set on the objects first, so they are complete after the
        call, as detached objects. For write paths inside transactions whose locks others wait on."""
        self._stamp(items)
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for item in items:
            row = _row_of(item)
            by_columns.setdefault(tuple(row), []).append(row)
        for columns, rows in by_columns.items():
            await _insert_statement(self.model_type.__table__, columns).execute(self.session, rows)  # type: ignore[arg-type]

    async def add_or_create(self, key: Mapping[str, Any], column: str, amount: Any) -> None:
        """Add ``amount`` to ``column`` of the row whose unique ``key`` columns hold these values, or
        create that row holding ``amount``: one statement, so two first additions racing each other
        make one row (MySQL's ``ON DUPLICATE KEY UPDATE``, PostgreSQL's and SQLite's ``ON CONFLICT``)."""
        table: Table = self.model_type.__table__  # type: ignore[assignment]
        item = self.model_type(**key, **{column: amount})
        self._stamp([item])
        row = _row_of(item)
        added = {column: table.c[column] + amount, "updated_at": row["updated_at"]}
        dialect = self.session.get_bind().dialect.name
        if dialect in ("mysql", "mariadb"):
            statement: Any = mysql.insert(table).values(row).on_duplicate_key_update(added)
        else:
            insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = (
                insert_of(table).values(row).on_conflict_do_update(index_elements=list(key), set_=added)
            )
        await self.session.execute(statement)

    async def update(self, data: ModelT, *args: Any, **kwargs: Any) -> ModelT:
        if self.is_scoped:
            await self.get(self.get_id_attribute_value(data))  # 404 unless it is this app's row
            self._stamp([data])
        return await super().update(data, *args, **kwargs)


_inserts: dict[tuple[Table, tuple[str, ...]], Precompiled] = {}
_reads: dict[Table, tuple[Precompiled, list[str]]] = {}


def _by_primary_key(table: Table) -> tuple[Precompiled, list[str]]:
    """``SELECT every column FROM table WHERE pk = :key``, compiled once per table, and the names."""
    found = _reads.get(table)
    if found is None:
        (key,) = table.primary_key.columns
        names = [str(column.key) for column in table.columns]  # plain str: msgspec refuses subclasses
        found = _reads[table] = (Precompiled(select(*table.columns).where(key == bindparam("key"))), names)
    return found


def _insert_statement(table: Table, columns: tuple[str, ...]) -> Precompiled:
    """``INSERT INTO table (columns) VALUES (...)``, compiled once per table and set of columns."""
    statement = _inserts.get((table, columns))
    if statement is None:
        values = {table.c[key]: bindparam(key, type_=table.c[key].type) for key in columns}
        statement = Precompiled(insert(table).values(values))
        _inserts[table, columns] = statement
    return statement


def _row_of(item: Model) -> dict[str, Any]:
    """The item's column values for an INSERT, its missing Python-side defaults filled in (and set on
    it). Columns left None with a server default are left out, for the database to fill."""
    row: dict[str, Any] = {}
    for prop in inspect(type(item)).column_attrs:
        column = prop.columns[0]
        if getattr(column, "_insert_sentinel", False):
            continue
        value = getattr(item, prop.key, None)
        default = column.default
        if value is None and default is not None and (default.is_callable or default.is_scalar):
            value = python_default(default)
            setattr(item, prop.key, value)
        if value is None and column.server_default is not None:
            continue
        row[column.key] = value
    return row
