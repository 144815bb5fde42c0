"""Limit/offset pagination: bounded page size, validated parameters, results as ``Page[T]``."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.di import Provide
from litestar.params import QueryParameter

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "PageParams", "provide_page_params"]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class PageParams(msgspec.Struct, frozen=True):
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


async def _page_params(
    page: Annotated[int, QueryParameter(ge=1, le=1_000_000, description="Page number, from 1.")] = 1,
    page_size: Annotated[
        int,
        QueryParameter(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, 1 to {MAX_PAGE_SIZE}."),
    ] = DEFAULT_PAGE_SIZE,
) -> PageParams:
    return PageParams(page=page, page_size=page_size)


provide_page_params = Provide(_page_params)
