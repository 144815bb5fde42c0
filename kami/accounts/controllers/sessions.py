"""One's own login sessions."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from kami.accounts.login_service import LoginService
from kami.accounts.schemas import SessionOut
from kami.codes import Codes
from kami.envelope import ApiResponse, responses, success
from kami.security.identity import Identity, own_account

__all__ = ["SessionController"]

SessionId = Annotated[str, Parameter(description="A session's id, as the session list gives it.")]


class SessionController(Controller):
    path = "/v1/sessions"

    @get(
        "/",
        summary="My sessions",
        description="The caller's live sessions, newest first: when each began and was last used, from "
        "which address and user agent; `current` marks the one this request belongs to.",
        guards=[own_account()],
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.SESSION_ENDED, Codes.PERSON_ONLY
        ),
    )
    async def my_sessions(
        self, login_service: NamedDependency[LoginService], identity: NamedDependency[Identity]
    ) -> ApiResponse[list[SessionOut]]:
        return success(await login_service.my_sessions(identity))

    @delete(
        "/{session_id:str}",
        status_code=200,
        summary="End one of my sessions",
        description="Its tokens are refused from now on (404 when the caller has no such live session).",
        guards=[own_account(recent_login=True)],
        responses=responses(
            Codes.UNAUTHENTICATED,
            Codes.TOKEN_EXPIRED,
            Codes.SESSION_ENDED,
            Codes.PERSON_ONLY,
            Codes.REAUTHENTICATE,
            Codes.NOT_FOUND,
        ),
    )
    async def revoke_session(
        self,
        login_service: NamedDependency[LoginService],
        identity: NamedDependency[Identity],
        session_id: SessionId,
    ) -> ApiResponse[None]:
        await login_service.revoke_session(identity, session_id)
        return success(None, "Session ended")
