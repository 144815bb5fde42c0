"""A repository service that builds its repository on first use, not when the service is made.

advanced-alchemy's ``SQLAlchemyAsyncRepositoryService.__init__`` builds the repository eagerly, which
costs more than a whole primary-key read on kami's lean path (~10 µs measured here); requests served
from the cache or by the lean path build services they never ask the repository of.

Overrides: ``SQLAlchemyAsyncRepositoryService.__init__`` (deferred) and its ``repository`` attribute
(a property that runs the deferred ``__init__`` on first use).
Upstream: none filed.
Written for: advanced-alchemy 1.12.0.
Tripwire: tests/overrides/test_lazy_repository.py — fails when advanced-alchemy's service stops
building the repository in ``__init__`` (then delete this module) or stores it elsewhere.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from advanced_alchemy.base import ModelProtocol
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["LazyRepositoryService"]

ModelT = TypeVar("ModelT", bound=ModelProtocol)
RepositoryT = TypeVar("RepositoryT", bound=SQLAlchemyAsyncRepository[Any])


class LazyRepositoryService(
    SQLAlchemyAsyncRepositoryService[ModelT, RepositoryT], Generic[ModelT, RepositoryT]
):
    def __init__(self, session: AsyncSession, **repository_options: Any) -> None:
        self.session = session
        self._repository_options = repository_options

    @property
    def repository(self) -> RepositoryT:
        if "_repository_instance" not in self.__dict__:
            super().__init__(self.session, **self._repository_options)
        return self._repository_instance  # type: ignore[no-any-return]
