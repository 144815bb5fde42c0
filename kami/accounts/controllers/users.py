"""Accounts: registration, one's own account, and what admins do to accounts."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from kami.accounts.account_service import AccountService
from kami.accounts.permissions import ACCOUNTS_MANAGE, ACCOUNTS_READ
from kami.accounts.schemas import AccountChange, ProfileUpdate, Registration, UserOut
from kami.codes import Codes
from kami.db.pagination import PageParams
from kami.envelope import ApiResponse, Page, responses, success
from kami.routes import route_options
from kami.security.identity import Identity, require, require_user

__all__ = ["AccountController"]

UserId = Annotated[UUID, Parameter(description="The user's id (UUID).")]


class AccountController(Controller):
    path = "/v1/users"

    @post(
        "/",
        summary="Register",
        description="Creates an account. A taken email or username is answered 409 / 4002.",
        responses=responses(Codes.ALREADY_EXISTS),
        opt=route_options(idempotent=True),
    )
    async def register(
        self, account_service: NamedDependency[AccountService], data: JSONBody[Registration]
    ) -> ApiResponse[UserOut]:
        return success(await account_service.register(data), "Created")

    @get(
        "/me",
        summary="My account",
        description="The caller's account (404 when a valid token names an account that was deleted).",
        guards=[require_user],
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.NOT_FOUND),
    )
    async def me(
        self, account_service: NamedDependency[AccountService], identity: NamedDependency[Identity]
    ) -> ApiResponse[UserOut]:
        return success(await account_service.profile(identity))

    @put(
        "/me",
        summary="Change my account",
        description="Change the username and/or the password. A new password ends every other session.",
        guards=[require_user],
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.NOT_FOUND, Codes.ALREADY_EXISTS
        ),
    )
    async def update_me(
        self,
        account_service: NamedDependency[AccountService],
        identity: NamedDependency[Identity],
        data: JSONBody[ProfileUpdate],
    ) -> ApiResponse[UserOut]:
        return success(await account_service.update_profile(identity, data))

    @get(
        "/",
        summary="List accounts",
        description="Paginated.",
        guards=[require(ACCOUNTS_READ)],
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED),
    )
    async def list_users(
        self, account_service: NamedDependency[AccountService], page_params: NamedDependency[PageParams]
    ) -> ApiResponse[Page[UserOut]]:
        return success(await account_service.accounts(page_params))

    @get(
        "/{user_id:uuid}",
        summary="Get an account",
        guards=[require(ACCOUNTS_READ)],
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED, Codes.NOT_FOUND
        ),
    )
    async def get_user(
        self, account_service: NamedDependency[AccountService], user_id: UserId
    ) -> ApiResponse[UserOut]:
        return success(await account_service.account(user_id))

    @patch(
        "/{user_id:uuid}",
        summary="Change an account's status, role or tier",
        description="`status: disabled` ends every session of the account at once and refuses its logins "
        "until `status: active`; a new role or tier applies to its live sessions at once. A role that does "
        "not exist, or a tier not configured (KAMI_RATELIMIT_TIERS, or `free`), is 404 / 4001.",
        guards=[require(ACCOUNTS_MANAGE)],
        responses=responses(
            Codes.UNAUTHENTICATED,
            Codes.TOKEN_EXPIRED,
            Codes.PERMISSION_DENIED,
            Codes.NOT_FOUND,
            Codes.INVALID_INPUT,
        ),
    )
    async def change_account(
        self, account_service: NamedDependency[AccountService], user_id: UserId, data: JSONBody[AccountChange]
    ) -> ApiResponse[UserOut]:
        return success(await account_service.change(user_id, data))

    @delete(
        "/{user_id:uuid}",
        status_code=200,
        summary="Delete an account",
        description="Anonymises it: the email, username and password are erased, its sessions end and "
        "its keys are revoked; what apps keep about it (orders) stays, no longer naming anyone.",
        guards=[require(ACCOUNTS_MANAGE)],
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED, Codes.NOT_FOUND
        ),
    )
    async def delete_account(
        self, account_service: NamedDependency[AccountService], user_id: UserId
    ) -> ApiResponse[None]:
        await account_service.remove(user_id)
        return success(None, "Deleted")
