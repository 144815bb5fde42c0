"""API keys for service clients, made and revoked by the people they act for."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from kami.accounts.key_service import ApiKeyService
from kami.accounts.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyInfo
from kami.codes import Codes
from kami.envelope import ApiResponse, responses, success
from kami.security.identity import Identity, own_account

__all__ = ["ApiKeyController"]

KeyId = Annotated[str, Parameter(description="The key's id (the part after `kami_`, before the next `_`).")]


class ApiKeyController(Controller):
    path = "/v1/api-keys"

    @post(
        "/",
        summary="Make an API key",
        description="For a service client: a name, some of the caller's own permissions (one the caller "
        "does not hold is 403; one no app declares, 404) and an optional lifetime. The key is in the "
        "answer this once (`kami_<id>_<secret>`, sent as `X-API-Key`); only its hash is kept. A key acts "
        "with those of its permissions its maker still holds, at its maker's tier, in its own rate-limit "
        "window, while its maker's account is active. Needs a confirmed address (403 / 1010) and a "
        "recent sign-in (403 / 1009); an API key cannot make keys (403 / 1008).",
        guards=[own_account(recent_login=True)],
        responses=responses(
            Codes.UNAUTHENTICATED,
            Codes.TOKEN_EXPIRED,
            Codes.PERMISSION_DENIED,
            Codes.PERSON_ONLY,
            Codes.REAUTHENTICATE,
            Codes.ADDRESS_NOT_CONFIRMED,
            Codes.NOT_FOUND,
        ),
    )
    async def make_key(
        self,
        key_service: NamedDependency[ApiKeyService],
        identity: NamedDependency[Identity],
        data: JSONBody[ApiKeyIn],
    ) -> ApiResponse[ApiKeyCreated]:
        return success(await key_service.create(identity, data), "Created")

    @get(
        "/",
        summary="My API keys",
        description="The caller's live keys, newest first, with their last use (never their secrets).",
        guards=[own_account()],
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERSON_ONLY),
    )
    async def my_keys(
        self, key_service: NamedDependency[ApiKeyService], identity: NamedDependency[Identity]
    ) -> ApiResponse[list[ApiKeyInfo]]:
        return success(await key_service.of_account(identity.user_id))

    @delete(
        "/{key_id:str}",
        status_code=200,
        summary="Revoke an API key",
        description="One of the caller's own keys, refused from the next request on by every worker "
        "(404 for a key that is not the caller's). Admins revoke anyone's at "
        "`DELETE /accounts/v1/users/{user_id}/api-keys/{key_id}`.",
        guards=[own_account()],
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERSON_ONLY, Codes.NOT_FOUND),
    )
    async def revoke_key(
        self, key_service: NamedDependency[ApiKeyService], identity: NamedDependency[Identity], key_id: KeyId
    ) -> ApiResponse[None]:
        await key_service.revoke(identity, identity.user_id, key_id)
        return success(None, "Revoked")
