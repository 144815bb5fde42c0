"""Accounts: registration, one's own account, and what admins do to accounts."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from kami.accounts.account_service import AccountService
from kami.accounts.key_service import ApiKeyService
from kami.accounts.permissions import ACCOUNTS_MANAGE, ACCOUNTS_READ
from kami.accounts.schemas import AccountChange, ApiKeyInfo, ProfileUpdate, Registration, UserOut
from kami.codes import Codes
from kami.db.pagination import PageParams
from kami.envelope import ApiResponse, Page, responses, success
from kami.routes import route_options
from kami.security.identity import Identity, own_account, require

__all__ = ["AccountController"]

UserId = Annotated[UUID, Parameter(description="The user's id (UUID).")]
KeyId = Annotated[str, Parameter(description="The key's id (the part after `kami_`, before the next `_`).")]


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
        guards=[own_account()],
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERSON_ONLY, Codes.NOT_FOUND),
    )
    async def me(
        self, account_service: NamedDependency[AccountService], identity: NamedDependency[Identity]
    ) -> ApiResponse[UserOut]:
        return success(await account_service.profile(identity))

    @put(
        "/me",
        summary="Change my account",
        description="Change the username and/or the password. A new password needs the current one "
        "(`current_password`; 403 / 1003 when it is not right) and ends every other session; the API keys "
        "stay. Needs a recent sign-in (403 / 1009).",
        guards=[own_account(recent_login=True)],
        responses=responses(
            Codes.UNAUTHENTICATED,
            Codes.TOKEN_EXPIRED,
            Codes.PERSON_ONLY,
            Codes.REAUTHENTICATE,
            Codes.PERMISSION_DENIED,
            Codes.NOT_FOUND,
            Codes.ALREADY_EXISTS,
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
        description="`status: disabled` ends every session of the account at once, revokes its API keys "
        "and refuses its logins until `status: active`; a new role or tier applies to its live sessions "
        "and keys at once. A role that does not exist, or a tier not configured (KAMI_RATELIMIT_TIERS, or "
        "`free`), is 404 / 4001. Nobody gives a role holding a permission they do not hold, nor changes "
        "their own role (403 / 1003).",
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
        self,
        account_service: NamedDependency[AccountService],
        identity: NamedDependency[Identity],
        user_id: UserId,
        data: JSONBody[AccountChange],
    ) -> ApiResponse[UserOut]:
        return success(await account_service.change(identity, user_id, data))

    @get(
        "/{user_id:uuid}/api-keys",
        summary="An account's API keys",
        description="Its live keys, newest first (never their secrets); 404 for an account that does not "
        "exist.",
        guards=[require(ACCOUNTS_MANAGE)],
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED, Codes.NOT_FOUND
        ),
    )
    async def account_keys(
        self, key_service: NamedDependency[ApiKeyService], user_id: UserId
    ) -> ApiResponse[list[ApiKeyInfo]]:
        return success(await key_service.of_existing_account(user_id))

    @delete(
        "/{user_id:uuid}/api-keys/{key_id:str}",
        status_code=200,
        summary="Revoke an account's API key",
        description="Refused from the next request on, by every worker (404 when the account has no such "
        "live key).",
        guards=[require(ACCOUNTS_MANAGE)],
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED, Codes.NOT_FOUND
        ),
    )
    async def revoke_account_key(
        self,
        key_service: NamedDependency[ApiKeyService],
        identity: NamedDependency[Identity],
        user_id: UserId,
        key_id: KeyId,
    ) -> ApiResponse[None]:
        await key_service.revoke(identity, str(user_id), key_id)
        return success(None, "Revoked")

    @delete(
        "/{user_id:uuid}",
        status_code=200,
        summary="Delete an account",
        description="Anonymises it: the email, username and password are erased, its sessions end and "
        "its keys are revoked; what apps keep about it (orders) stays, no longer naming anyone. Nothing "
        "another account does can block it.",
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
