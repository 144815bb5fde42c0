"""The transaction boundary: a service opens it, and only what the outermost block commits is kept.

``async with transaction(session):`` commits when the block ends and rolls back on any exception.
Blocks nest: an inner block (one service calling another's, inside its own transaction) joins the
outer one, so nothing is committed before the outermost block ends, and an exception that leaves an
inner block dooms the whole transaction — even if the outer block catches it, the outermost end then
rolls back and raises :class:`TransactionAbortedError` instead of committing half of the work.

Work that must wait for the commit (invalidating a cache, enqueueing a job) is registered with
:func:`after_commit`; it runs once the outermost block has committed, and never after a rollback.

The per-request session is closed (rolled back) by the plugin after every response, so a business
failure leaves the database exactly as it was. A failed COMMIT raises here, inside the handler, and
becomes an error envelope instead of a 2xx.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_scoped_session

from kami.overrides.replica_routing import use_primary

__all__ = ["TransactionAbortedError", "after_commit", "in_transaction", "transaction"]

log = structlog.get_logger("kami.db.transaction")
_STATE = "kami.transaction"  # key in ``session.info`` while a transaction block is open

AfterCommit = Callable[[], Awaitable[object]]


class TransactionAbortedError(RuntimeError):
    """An exception left a nested block and the outer block went on as if nothing happened: the whole
    transaction was rolled back. A service bug (answered 500), never a partial commit."""


@dataclass
class _Open:
    failure: BaseException | None = None  # the first exception that left a nested block
    callbacks: list[AfterCommit] = field(default_factory=list)


def in_transaction(session: AsyncSession | async_scoped_session[AsyncSession]) -> bool:
    """True inside ``transaction(session)`` (however deeply nested)."""
    return _STATE in session.info


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` once the outermost transaction on ``session`` has committed (in the order
    registered); drop it if the transaction rolls back. A failing callback is logged: the commit
    stands, so the client is not told the write failed."""
    state = session.info.get(_STATE)
    if state is None:
        raise RuntimeError(
            "after_commit() needs an open transaction: call it inside `async with transaction()`"
        )
    state.callbacks.append(callback)


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Commit on success, roll back on any exception; every statement inside goes to the primary."""
    state: _Open | None = session.info.get(_STATE)
    if state is not None:  # nested: the outermost block decides
        try:
            yield session
        except BaseException as exc:
            state.failure = state.failure or exc
            raise
        return
    state = session.info[_STATE] = _Open()
    try:
        with use_primary():
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            if state.failure is not None:
                await session.rollback()
                raise TransactionAbortedError(
                    f"a nested transaction failed ({type(state.failure).__name__}: {state.failure}) and the "
                    "outer block went on: everything was rolled back"
                ) from state.failure
            await session.commit()
    finally:
        session.info.pop(_STATE, None)
    for callback in state.callbacks:
        try:
            await callback()
        except Exception:
            log.exception("after-commit callback failed; the commit stands", callback=repr(callback))
