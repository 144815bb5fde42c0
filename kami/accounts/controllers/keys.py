"""API keys for service clients, made and revoked by the people they act for."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from kami.accounts.api_keys import ApiKeyInfo
from kami.accounts.key_service import ApiKeyService
from kami.accounts.schemas import ApiKeyCreated, ApiKeyIn
from kami.codes import Codes
from kami.envelope import ApiResponse, responses, success
from kami.security.identity import Identity, require_user

__all__ = ["ApiKeyController"]

KeyId = Annotated[str, Parameter(description="The key's id (the part after `kami_`, before the next `_`).")]


class ApiKeyController(Controller):
    path = "/v1/api-keys"
    guards = [require_user]

    @post(
        "/",
        summary="Make an API key",
        description="For a service client: a name, some of the caller's own permissions (one the caller "
        "does not hold is 403; one no app declares, 404) and an optional lifetime. The key is in the "
        "answer this once (`kami_<id>_<secret>`, sent as `X-API-Key`); only its hash is kept. It is "
        "rate-limited in its own window at the caller's tier. An API key cannot make keys.",
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED, Codes.NOT_FOUND
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
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED),
    )
    async def my_keys(
        self, key_service: NamedDependency[ApiKeyService], identity: NamedDependency[Identity]
    ) -> ApiResponse[list[ApiKeyInfo]]:
        return success(await key_service.mine(identity))

    @delete(
        "/{key_id:str}",
        status_code=200,
        summary="Revoke an API key",
        description="Refused from the next request on, by every worker. One's own key, or anyone's with "
        "`accounts:manage`; 404 otherwise.",
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.NOT_FOUND),
    )
    async def revoke_key(
        self, key_service: NamedDependency[ApiKeyService], identity: NamedDependency[Identity], key_id: KeyId
    ) -> ApiResponse[None]:
        await key_service.revoke(identity, key_id)
        return success(None, "Revoked")
