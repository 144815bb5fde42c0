"""App A's HTTP surface: parse, call a service, wrap in the envelope."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from apps.app_a.codes import INSUFFICIENT_BALANCE, ORDER_ALREADY_CANCELLED, ORDER_CREATION_FAILED
from apps.app_a.permissions import ORDERS_CANCEL, ORDERS_PLACE, ORDERS_READ, WALLET_READ, WALLETS_CREDIT
from apps.app_a.schemas import Credit, OrderIn, OrderOut, WalletOut
from apps.app_a.services import OrderService, WalletService
from apps.app_b.services import ProductService
from kami import ApiResponse, Codes, Page, responses, route_options, success
from kami.accounts import AccountDirectory
from kami.data import AuditTrail, PageParams
from kami.security import Identity, require

__all__ = ["OrderController", "WalletController"]


async def provide_orders(
    db_session: NamedDependency[AsyncSession], products: NamedDependency[ProductService]
) -> OrderService:
    """``products`` is App B's exported service (``AppSpec.exports``), on this request's session."""
    return OrderService(session=db_session, products=products)


async def provide_wallets(
    db_session: NamedDependency[AsyncSession],
    accounts: NamedDependency[AccountDirectory],
    audit: NamedDependency[AuditTrail],
) -> WalletService:
    """``accounts`` is what the platform's identity slice tells apps about accounts."""
    return WalletService(session=db_session, accounts=accounts, audit=audit)


AccountId = Annotated[UUID, Parameter(description="The account's id (UUID).")]
OrderId = Annotated[UUID, Parameter(description="The order's id (UUID).")]
SIGNED_IN = (Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED)


class WalletController(Controller):
    dependencies = {"wallets": Provide(provide_wallets)}

    @get(
        "/v1/wallet",
        summary="My wallet",
        description="What the caller may spend on orders (0.00 until the first credit).",
        guards=[require(WALLET_READ)],
        responses=responses(*SIGNED_IN),
    )
    async def my_wallet(
        self, wallets: NamedDependency[WalletService], identity: NamedDependency[Identity]
    ) -> ApiResponse[WalletOut]:
        return success(await wallets.wallet(UUID(identity.user_id)))

    @post(
        "/v1/wallets/{account_id:uuid}/credit",
        status_code=200,
        summary="Credit a wallet",
        description="Adds `amount` to the account's wallet (404 for an account that does not exist or was "
        "deleted); send an `Idempotency-Key` to make a retry safe.",
        guards=[require(WALLETS_CREDIT)],
        opt=route_options(idempotent=True),
        responses=responses(*SIGNED_IN, Codes.NOT_FOUND),
    )
    async def credit(
        self, wallets: NamedDependency[WalletService], account_id: AccountId, data: JSONBody[Credit]
    ) -> ApiResponse[WalletOut]:
        return success(await wallets.credit(account_id, data))


class OrderController(Controller):
    path = "/v1/orders"
    dependencies = {"orders": Provide(provide_orders)}

    @post(
        "/",
        guards=[require(ORDERS_PLACE)],
        summary="Place an order",
        description="Reserves the stock and debits the wallet in one transaction. Not enough stock: HTTP "
        "200 with code 10001; not enough balance: 10008; in both cases nothing is written. Send an "
        "`Idempotency-Key` header to make retries safe: the key's answer is stored with the order.",
        opt=route_options(idempotent=True),
        responses=responses(*SIGNED_IN, business=[ORDER_CREATION_FAILED, INSUFFICIENT_BALANCE]),
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
        guards=[require(ORDERS_READ)],
        summary="My orders",
        description="The caller's orders, newest first; paginated.",
        responses=responses(*SIGNED_IN),
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
        guards=[require(ORDERS_READ)],
        summary="Get an order",
        description="For its owner, or a caller with `app-a:orders.read-any`; anybody else gets 404.",
        responses=responses(*SIGNED_IN, Codes.NOT_FOUND),
    )
    async def get_order(
        self, orders: NamedDependency[OrderService], identity: NamedDependency[Identity], order_id: OrderId
    ) -> ApiResponse[OrderOut]:
        return success(await orders.one(identity, order_id))

    @post(
        "/{order_id:uuid}/cancel",
        guards=[require(ORDERS_CANCEL)],
        status_code=200,
        summary="Cancel an order",
        description="Gives the stock and the money back, once; a second cancel is 409 / 10003. One's own "
        "order, or anybody's with `app-a:orders.read-any`.",
        opt=route_options(idempotent=True),
        responses=responses(*SIGNED_IN, Codes.NOT_FOUND, ORDER_ALREADY_CANCELLED),
    )
    async def cancel_order(
        self, orders: NamedDependency[OrderService], identity: NamedDependency[Identity], order_id: OrderId
    ) -> ApiResponse[OrderOut]:
        return success(await orders.cancel(identity, order_id))
