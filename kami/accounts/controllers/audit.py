"""The audit trail, for those allowed to read it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from kami.accounts.permissions import AUDIT_READ
from kami.codes import Codes
from kami.db.audit import AuditRecord, read_events
from kami.db.pagination import PageParams
from kami.envelope import ApiResponse, Page, responses, success
from kami.security.identity import require

__all__ = ["AuditController"]

AuditFilter = Annotated[str | None, Parameter(description="Exact match.", max_length=320)]


class AuditController(Controller):
    path = "/v1/audit"
    guards = [require(AUDIT_READ)]

    @get(
        "/",
        summary="The audit trail",
        description="Security events, newest first: logins and their failures, logouts, ended sessions, "
        "password changes, admins' changes to accounts and roles. Filter by exact `action`, `actor` (an "
        "account id, `anonymous` or `cli`) and `target`, and by day (`since`, `until`, both included). "
        "Each record carries the hash that chains it to the one before (`kami audit verify`).",
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED),
    )
    async def audit_trail(
        self,
        db_session: NamedDependency[AsyncSession],
        page_params: NamedDependency[PageParams],
        action: AuditFilter = None,
        actor: AuditFilter = None,
        target: AuditFilter = None,
        since: Annotated[date | None, Parameter(description="From this day (UTC), e.g. 2026-11-30.")] = None,
        until: Annotated[date | None, Parameter(description="To this day (UTC), included.")] = None,
    ) -> ApiResponse[Page[AuditRecord]]:
        events = await read_events(
            db_session, page_params, action=action, actor=actor, target=target, since=since, until=until
        )
        return success(events)
