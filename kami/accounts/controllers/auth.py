"""Logging in and out, refreshing tokens, and recovery by email."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody, Parameter

from kami.accounts.login_service import LOGIN_RATE_PER_ADDRESS, LoginService
from kami.accounts.recovery_service import RecoveryService
from kami.accounts.schemas import AddressIn, LoginIn, PasswordConfirmation, PasswordResetIn, RefreshIn, Tokens
from kami.codes import Codes
from kami.envelope import ApiResponse, responses, success
from kami.routes import RateLimit, route_options
from kami.security.identity import Identity, own_account

__all__ = ["AuthController", "RecoveryController"]

UserAgent = Annotated[
    str, HeaderParameter(name="user-agent", required=False, description="Shown in the session list.")
]
ON_ITS_WAY = "If an account has this address, a message is on its way"
LINK_RATE = RateLimit(5, per="minute")  # per address: each request may send a message


class AuthController(Controller):
    path = "/v1/auth"

    @post(
        "/login",
        status_code=200,
        summary="Log in",
        description="Opens a session: access and refresh tokens for the right email and password. Wrong "
        "credentials are a business failure: HTTP 200 with code 1001; a deactivated account is refused "
        "(403 / 1007). After 10 failed attempts at one account from one "
        "address in 15 minutes, that address is refused for that account (a success clears the count; "
        "other addresses are not affected); every address makes at most 30 attempts a minute: "
        "429 / 4006 with `Retry-After` beyond.",
        opt=route_options(rate_limit=LOGIN_RATE_PER_ADDRESS),
        responses=responses(Codes.TOO_MANY_REQUESTS, Codes.ACCOUNT_DISABLED),
    )
    async def login(
        self,
        login_service: NamedDependency[LoginService],
        data: JSONBody[LoginIn],
        client_address: NamedDependency[str],
        user_agent: UserAgent = "",
    ) -> ApiResponse[Tokens]:
        return success(await login_service.login(data, client_address, user_agent))

    @post(
        "/refresh",
        status_code=200,
        summary="Refresh tokens",
        description="New tokens in the same session for a refresh token. Each refresh token works once: "
        "presenting it again ends its whole session (401 / 1006), since only a copy can be presented "
        "twice. An ended session's tokens are refused (401 / 1005).",
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.SESSION_ENDED, Codes.REFRESH_TOKEN_REUSED
        ),
    )
    async def refresh(
        self, login_service: NamedDependency[LoginService], data: JSONBody[RefreshIn]
    ) -> ApiResponse[Tokens]:
        return success(await login_service.refresh(data.refresh_token))

    @post(
        "/logout",
        status_code=200,
        summary="Log out",
        description="Ends this session: its access and refresh tokens are refused from now on.",
        guards=[own_account()],
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.SESSION_ENDED, Codes.PERSON_ONLY
        ),
    )
    async def logout(
        self, login_service: NamedDependency[LoginService], identity: NamedDependency[Identity]
    ) -> ApiResponse[None]:
        await login_service.logout(identity)
        return success(None, "Logged out")

    @post(
        "/confirm",
        status_code=200,
        summary="Confirm my password",
        description="Gives the password again in this session: making an API key, changing the password "
        "and ending other sessions need a sign-in within `KAMI_SECURITY_REAUTHENTICATE_SECONDS` (10 "
        "minutes), and answer 403 / 1009 otherwise. A wrong password is 403 / 1003, counted as a failed "
        "login.",
        guards=[own_account()],
        responses=responses(
            Codes.UNAUTHENTICATED,
            Codes.TOKEN_EXPIRED,
            Codes.SESSION_ENDED,
            Codes.PERSON_ONLY,
            Codes.PERMISSION_DENIED,
            Codes.TOO_MANY_REQUESTS,
        ),
    )
    async def confirm(
        self,
        login_service: NamedDependency[LoginService],
        identity: NamedDependency[Identity],
        data: JSONBody[PasswordConfirmation],
    ) -> ApiResponse[None]:
        await login_service.confirm(identity, data.password)
        return success(None, "Confirmed")


class RecoveryController(Controller):
    """Password reset and address checks by email. The answers never tell whether an account exists."""

    path = "/v1/auth"

    @post(
        "/password-reset",
        status_code=202,
        summary="Ask for a password reset",
        description="Mails a link to reset the password (it works once, for an hour, until a newer one "
        "is sent) if an account has this address. The answer, and how long it takes, are the same "
        "whether one does or not. At most 5 a minute per client address, and 3 messages an hour per "
        "email address.",
        opt=route_options(rate_limit=LINK_RATE),
        responses=responses(Codes.TOO_MANY_REQUESTS),
    )
    async def request_reset(
        self, recovery_service: NamedDependency[RecoveryService], data: JSONBody[AddressIn]
    ) -> ApiResponse[None]:
        await recovery_service.request_password_reset(data.email)
        return success(None, ON_ITS_WAY)

    @post(
        "/password-reset/confirm",
        status_code=200,
        summary="Reset the password",
        description="With the token from the emailed link: sets the new password, ends every session of "
        "the account and revokes its API keys. A used, expired, unknown or older token (a newer link was "
        "sent) is 404 / 4010.",
        responses=responses(Codes.LINK_NOT_VALID),
    )
    async def reset(
        self, recovery_service: NamedDependency[RecoveryService], data: JSONBody[PasswordResetIn]
    ) -> ApiResponse[None]:
        await recovery_service.reset_password(data.token, data.password)
        return success(None, "Password changed; log in with it")

    @get(
        "/verify-email",
        summary="Confirm an address",
        description="The link mailed at registration: marks the account's address as confirmed. A used, "
        "expired or unknown token is 404 / 4010.",
        responses=responses(Codes.LINK_NOT_VALID),
    )
    async def verify_email(
        self,
        recovery_service: NamedDependency[RecoveryService],
        token: Annotated[str, Parameter(description="From the emailed link.", min_length=1, max_length=200)],
    ) -> ApiResponse[None]:
        await recovery_service.confirm_address(token)
        return success(None, "Address confirmed")

    @post(
        "/verify-email/resend",
        status_code=202,
        summary="Send the address check again",
        description="Mails a new confirmation link if an unconfirmed account has this address; the answer "
        "is the same either way. At most 5 a minute per client address, 3 messages an hour per email "
        "address.",
        opt=route_options(rate_limit=LINK_RATE),
        responses=responses(Codes.TOO_MANY_REQUESTS),
    )
    async def resend_check(
        self, recovery_service: NamedDependency[RecoveryService], data: JSONBody[AddressIn]
    ) -> ApiResponse[None]:
        await recovery_service.request_address_check(data.email)
        return success(None, ON_ITS_WAY)
