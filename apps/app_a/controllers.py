"""App A's HTTP surface: parse, call a service, wrap in the envelope."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from apps.app_a.codes import ORDER_ALREADY_CANCELLED, REFRESH_TOKEN_REUSED
from apps.app_a.schemas import (
    Credit,
    LoginIn,
    OrderIn,
    OrderOut,
    ProfileUpdate,
    RefreshIn,
    Registration,
    Tokens,
    UserOut,
)
from apps.app_a.services import LOGIN_RATE_PER_ADDRESS, AccountService, OrderService
from apps.app_b.services import ProductService
from kami import ApiResponse, Codes, Page, responses, route_options, success
from kami.cache import Store
from kami.data import PageParams
from kami.security import Identity, TokenSigner, require_admin, require_user

__all__ = ["AccountController", "AuthController", "OrderController"]


async def provide_accounts(
    db_session: NamedDependency[AsyncSession],
    token_signer: NamedDependency[TokenSigner],
    store: NamedDependency[Store],
) -> AccountService:
    return AccountService(session=db_session, signer=token_signer, store=store)


async def provide_orders(
    db_session: NamedDependency[AsyncSession], products: NamedDependency[ProductService]
) -> OrderService:
    """``products`` is App B's exported service (``AppSpec.exports``), on this request's session."""
    return OrderService(session=db_session, products=products)


UserId = Annotated[UUID, Parameter(description="The user's id (UUID).")]
OrderId = Annotated[UUID, Parameter(description="The order's id (UUID).")]


class AuthController(Controller):
    path = "/v1/auth"
    dependencies = {"accounts": Provide(provide_accounts)}

    @post(
        "/login",
        status_code=200,
        summary="Log in",
        description="Access and refresh tokens for the right email and password. Wrong credentials are a "
        "business failure: HTTP 200 with code 1001. After 10 failed attempts at one account from one "
        "address in 15 minutes, that address is refused for that account (a success clears the count; "
        "other addresses are not affected); every address makes at most 30 attempts a minute: "
        "429 / 4006 with `Retry-After` beyond.",
        opt=route_options(rate_limit=LOGIN_RATE_PER_ADDRESS),
        responses=responses(Codes.TOO_MANY_REQUESTS),
    )
    async def login(
        self,
        accounts: NamedDependency[AccountService],
        data: JSONBody[LoginIn],
        client_address: NamedDependency[str],
    ) -> ApiResponse[Tokens]:
        return success(await accounts.login(data, client_address))

    @post(
        "/refresh",
        status_code=200,
        summary="Refresh tokens",
        description="New tokens for a refresh token. Each refresh token works once (401 / 10002 after).",
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, REFRESH_TOKEN_REUSED),
    )
    async def refresh(
        self, accounts: NamedDependency[AccountService], data: JSONBody[RefreshIn]
    ) -> ApiResponse[Tokens]:
        return success(await accounts.refresh(data.refresh_token))


class AccountController(Controller):
    path = "/v1/users"
    dependencies = {"accounts": Provide(provide_accounts)}

    @post(
        "/",
        summary="Register",
        description="Creates an account. A taken email or username is answered 409 / 4002.",
        responses=responses(Codes.ALREADY_EXISTS),
        opt=route_options(idempotent=True),
    )
    async def register(
        self, accounts: NamedDependency[AccountService], data: JSONBody[Registration]
    ) -> ApiResponse[UserOut]:
        return success(await accounts.register(data), "Created")

    @get(
        "/me",
        summary="My account",
        description="The caller's account (404 when a valid token names an account that was deleted).",
        guards=[require_user],
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.NOT_FOUND),
    )
    async def me(
        self, accounts: NamedDependency[AccountService], identity: NamedDependency[Identity]
    ) -> ApiResponse[UserOut]:
        return success(await accounts.profile(identity))

    @put(
        "/me",
        summary="Change my account",
        description="Change the username and/or the password.",
        guards=[require_user],
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.NOT_FOUND, Codes.ALREADY_EXISTS
        ),
    )
    async def update_me(
        self,
        accounts: NamedDependency[AccountService],
        identity: NamedDependency[Identity],
        data: JSONBody[ProfileUpdate],
    ) -> ApiResponse[UserOut]:
        return success(await accounts.update_profile(identity, data))

    @get(
        "/",
        summary="List accounts",
        description="Admin only; paginated.",
        guards=[require_admin],
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED),
    )
    async def list_users(
        self, accounts: NamedDependency[AccountService], page_params: NamedDependency[PageParams]
    ) -> ApiResponse[Page[UserOut]]:
        return success(await accounts.accounts(page_params))

    @get(
        "/{user_id:uuid}",
        summary="Get an account",
        description="Admin only.",
        guards=[require_admin],
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED, Codes.NOT_FOUND
        ),
    )
    async def get_user(
        self, accounts: NamedDependency[AccountService], user_id: UserId
    ) -> ApiResponse[UserOut]:
        return success(await accounts.account(user_id))

    @post(
        "/{user_id:uuid}/credit",
        status_code=200,
        summary="Credit an account",
        description="Admin only. Adds `amount` to the user's balance; send an `Idempotency-Key` to make "
        "a retry safe.",
        guards=[require_admin],
        opt=route_options(idempotent=True),
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED, Codes.NOT_FOUND
        ),
    )
    async def credit(
        self, accounts: NamedDependency[AccountService], user_id: UserId, data: JSONBody[Credit]
    ) -> ApiResponse[UserOut]:
        return success(await accounts.credit(user_id, data))


class OrderController(Controller):
    path = "/v1/orders"
    guards = [require_user]
    dependencies = {"orders": Provide(provide_orders)}

    @post(
        "/",
        summary="Place an order",
        description="Reserves the stock and debits the balance in one transaction. Not enough stock: HTTP "
        "200 with code 2001; not enough balance: 2003; in both cases nothing is written. Send an "
        "`Idempotency-Key` header to make retries safe: the key's answer is stored with the order.",
        opt=route_options(idempotent=True),
        responses=responses(
            Codes.UNAUTHENTICATED,
            Codes.TOKEN_EXPIRED,
            business=[Codes.ORDER_CREATION_FAILED, Codes.INSUFFICIENT_BALANCE],
        ),
    )
    async def place_order(
        self,
        orders: NamedDependency[OrderService],
        identity: NamedDependency[Identity],
        data: JSONBody[OrderIn],
    ) -> ApiResponse[OrderOut]:
        return success(await orders.place(identity, data), "Created")

    @get(
        "/",
        summary="My orders",
        description="The caller's orders, newest first; paginated.",
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED),
    )
    async def my_orders(
        self,
        orders: NamedDependency[OrderService],
        identity: NamedDependency[Identity],
        page_params: NamedDependency[PageParams],
    ) -> ApiResponse[Page[OrderOut]]:
        return success(await orders.mine(identity, page_params))

    @get(
        "/{order_id:uuid}",
        summary="Get an order",
        description="For its owner or an admin; anybody else gets 404.",
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.NOT_FOUND),
    )
    async def get_order(
        self, orders: NamedDependency[OrderService], identity: NamedDependency[Identity], order_id: OrderId
    ) -> ApiResponse[OrderOut]:
        return success(await orders.one(identity, order_id))

    @post(
        "/{order_id:uuid}/cancel",
        status_code=200,
        summary="Cancel an order",
        description="Gives the stock and the money back, once; a second cancel is 409 / 10003.",
        opt=route_options(idempotent=True),
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.NOT_FOUND, ORDER_ALREADY_CANCELLED
        ),
    )
    async def cancel_order(
        self, orders: NamedDependency[OrderService], identity: NamedDependency[Identity], order_id: OrderId
    ) -> ApiResponse[OrderOut]:
        return success(await orders.cancel(identity, order_id))
