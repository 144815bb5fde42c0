"""Services: advanced-alchemy's repository service, returning msgspec structs instead of entities."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar, Generic, TypeVar

import msgspec
from advanced_alchemy.filters import LimitOffset, OrderBy, StatementFilter
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from kami.db.models import Model
from kami.db.pagination import PageParams
from kami.db.repository import Repository
from kami.db.transaction import AfterCommit, after_commit, transaction
from kami.envelope import Page
from kami.errors import NotFoundError
from kami.overrides.lazy_repository import LazyRepositoryService

__all__ = ["Service"]

ModelT = TypeVar("ModelT", bound=Model)
OutT = TypeVar("OutT", bound=msgspec.Struct)


class Service(LazyRepositoryService[ModelT, Repository[ModelT]], Generic[ModelT, OutT]):
    """Business operations on one model. ``out_type`` is the struct that leaves the service.

    ``get`` raises the repository's not-found error (answered 404 / 4001), duplicates are answered
    409 / 4002 and stale versions 409 / 4007, all by kami's exception handlers. The repository is
    built on first use (:mod:`kami.overrides.lazy_repository`).
    """

    out_type: ClassVar[type[msgspec.Struct]]

    def to_out(self, entity: ModelT) -> OutT:
        """Copy the loaded columns into the output struct (never a lazy-loading ORM entity)."""
        return msgspec.convert(entity, self.out_type, from_attributes=True)  # type: ignore[return-value]

    async def get_row(self, item_id: Any) -> dict[str, Any]:
        """One row as ``{column: value}`` by the lean read path (no entity; a replica outside a
        transaction, the transaction's own connection inside one); 404 / 4001 when it does not exist."""
        app_id = self._repository_options.get("app_id")
        row = await self.repository_type.read_row(self.session, item_id, app_id)
        if row is None:
            raise NotFoundError()
        return row

    async def get_out(self, item_id: Any) -> OutT:
        """One row as the output struct, by the lean read path; 404 / 4001 when it does not exist."""
        return msgspec.convert(await self.get_row(item_id), self.out_type, from_attributes=False)  # type: ignore[return-value]

    async def page(
        self,
        params: PageParams,
        *filters: StatementFilter | ColumnElement[bool],
        order_by: Sequence[tuple[str, bool]] = (("created_at", True), ("id", True)),
    ) -> Page[OutT]:
        """One page of rows matching ``filters`` as output structs; ``order_by`` is (field, descending)."""
        items, total = await self.page_entities(params, *filters, order_by=order_by)
        return Page.of([self.to_out(item) for item in items], total, params.page, params.page_size)

    async def page_entities(
        self,
        params: PageParams,
        *filters: StatementFilter | ColumnElement[bool],
        order_by: Sequence[tuple[str, bool]] = (("created_at", True), ("id", True)),
    ) -> tuple[Sequence[ModelT], int]:
        """The entities of one page and the total count, for services that build richer outputs."""
        orders = [OrderBy(field_name=name, sort_order="desc" if desc else "asc") for name, desc in order_by]
        return await self.repository.get_many_and_count(
            *filters, *orders, LimitOffset(limit=params.page_size, offset=params.offset)
        )

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """``async with self.transaction():`` commit on success, roll back on any error. Inside another
        service's transaction on the same session it joins that one (see :mod:`kami.db.transaction`)."""
        return transaction(self.session)

    def after_commit(self, callback: AfterCommit) -> None:
        """Run ``callback`` once the (outermost) transaction this call is inside has committed."""
        after_commit(self.session, callback)
