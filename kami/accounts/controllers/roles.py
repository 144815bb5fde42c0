"""Roles: the permission sets admins give accounts."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from kami.accounts.permissions import ROLES_MANAGE
from kami.accounts.role_service import RoleService
from kami.accounts.schemas import RoleIn, RoleOut
from kami.codes import Codes
from kami.envelope import ApiResponse, responses, success
from kami.routes import route_options
from kami.security.identity import Identity, require

__all__ = ["RoleController"]

RolePath = Annotated[
    str,
    Parameter(
        description="The role's name: lowercase letters, digits and '-', from a letter.",
        pattern=r"^[a-z][a-z0-9-]*$",
        min_length=2,
        max_length=50,
    ),
]


class RoleController(Controller):
    path = "/v1/roles"
    guards = [require(ROLES_MANAGE)]

    @get(
        "/",
        summary="Roles",
        description="The built-in roles (`user`, `admin`) and those defined, with their permissions.",
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED),
    )
    async def list_roles(self, role_service: NamedDependency[RoleService]) -> ApiResponse[list[RoleOut]]:
        return success(await role_service.roles())

    @put(
        "/{name:str}",
        summary="Define a role",
        description="Creates or replaces the role: a set of declared permissions (one no mounted app "
        "declares is 404 / 4001), each held by the caller (403 / 1003 otherwise). Everyone holding it, "
        "and their API keys, get the new set at once.",
        opt=route_options(idempotent=True),
        responses=responses(
            Codes.UNAUTHENTICATED,
            Codes.TOKEN_EXPIRED,
            Codes.PERMISSION_DENIED,
            Codes.NOT_FOUND,
            Codes.ROLE_BUILT_IN,
        ),
    )
    async def define_role(
        self,
        role_service: NamedDependency[RoleService],
        identity: NamedDependency[Identity],
        name: RolePath,
        data: JSONBody[RoleIn],
    ) -> ApiResponse[RoleOut]:
        return success(await role_service.define(identity, name, data))

    @delete(
        "/{name:str}",
        status_code=200,
        summary="Remove a role",
        description="Only a defined role nobody holds (409 / 4012 while someone does).",
        opt=route_options(idempotent=True),
        responses=responses(
            Codes.UNAUTHENTICATED,
            Codes.TOKEN_EXPIRED,
            Codes.PERMISSION_DENIED,
            Codes.NOT_FOUND,
            Codes.ROLE_BUILT_IN,
            Codes.ROLE_IN_USE,
        ),
    )
    async def remove_role(
        self, role_service: NamedDependency[RoleService], name: RolePath
    ) -> ApiResponse[None]:
        await role_service.remove(name)
        return success(None, "Removed")
