"""The transaction boundary: a service opens it, and only what it commits is kept.

The per-request session is closed (rolled back) by the plugin after every response, so a business
failure, raised inside :func:`transaction`, leaves the database exactly as it was. A failed COMMIT
raises here, inside the handler, and becomes an error envelope instead of a 2xx.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from kami.db.routing import use_primary

__all__ = ["transaction"]


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Commit on success, roll back on any exception; every statement inside goes to the primary."""
    with use_primary():
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
