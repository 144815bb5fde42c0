"""App A's business rules: wallets and orders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

import structlog
from opentelemetry import trace
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from apps.app_a.codes import INSUFFICIENT_BALANCE, ORDER_ALREADY_CANCELLED, ORDER_CREATION_FAILED
from apps.app_a.models import Order, OrderLine, Wallet
from apps.app_a.permissions import ORDERS_READ_ANY
from apps.app_a.repositories import OrderLineRepository, OrderRepository, WalletRepository
from apps.app_a.schemas import Credit, OrderIn, OrderLineOut, OrderOut, WalletOut
from apps.app_b.errors import InsufficientStockError, UnknownProductError
from apps.app_b.services import ProductService, StockLine
from kami import BusinessError, ConflictError, NotFoundError, Page, events, to_decimal
from kami.accounts import AccountDirectory
from kami.data import AuditTrail, PageParams, Service
from kami.security import Identity

__all__ = ["OrderService", "WalletService"]

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)


class WalletService(Service[Wallet, WalletOut]):
    """An account's wallet: credited by those allowed to, debited by its orders."""

    repository_type = WalletRepository
    out_type = WalletOut
    repository: WalletRepository

    def __init__(self, session: AsyncSession, accounts: AccountDirectory, audit: AuditTrail) -> None:
        super().__init__(session)
        self.accounts = accounts
        self.audit = audit

    async def wallet(self, account_id: UUID) -> WalletOut:
        """The account's wallet (an account never credited has 0.00)."""
        found = await self.get_one_or_none(account_id=account_id)
        return WalletOut(account_id=account_id, balance=found.balance if found else Decimal("0.00"))

    async def credit(self, account_id: UUID, data: Credit) -> WalletOut:
        account = await self.accounts.find(account_id)
        if account is None or account.status == "deleted":
            raise NotFoundError("No such account")
        async with self.transaction():
            await self.repository.credit(account_id, to_decimal(data.amount))
            await self.audit.record("wallet.credited", str(account_id), {"amount": data.amount})
        return await self.wallet(account_id)


class OrderService(Service[Order, OrderOut]):
    """Placing an order prices the lines, debits the buyer's wallet, writes the order and reserves App
    B's stock in one transaction: on any failure nothing at all is written. Prices are those read when
    the order starts (no lock); stock is taken last, so the contended product rows stay locked only
    for the reservation and the commit."""

    repository_type = OrderRepository
    repository: OrderRepository

    def __init__(self, session: AsyncSession, products: ProductService) -> None:
        super().__init__(session)
        self.products = products
        self.wallets = WalletRepository(session=session)
        self.lines = OrderLineRepository(session=session)

    async def place(self, identity: Identity, data: OrderIn) -> OrderOut:
        with tracer.start_as_current_span("place order", attributes={"kami.order.lines": len(data.items)}):
            try:
                order = await self._place(identity, data)
            except BusinessError as exc:
                events.increment("orders_failed", code=str(exc.business_code.code))
                raise
        events.increment("orders_placed")
        log.info("order placed", order_id=str(order.id), total=str(order.total), lines=len(order.items))
        return order

    async def _place(self, identity: Identity, data: OrderIn) -> OrderOut:
        buyer = UUID(identity.user_id)
        quantities: dict[UUID, int] = {}
        for item in data.items:  # the same product twice is one line (in the order first listed)
            quantities[item.product_id] = quantities.get(item.product_id, 0) + item.quantity
        wanted = [StockLine(product_id, quantity) for product_id, quantity in quantities.items()]
        try:
            async with self.transaction():
                prices = await self.products.quote(wanted)
                total = sum((prices[line.product_id] * line.quantity for line in wanted), Decimal(0))
                if not await self.wallets.debit(buyer, total):
                    raise BusinessError(code=INSUFFICIENT_BALANCE, data={"total": str(total)})
                # Plain inserts, nothing read back: the ORM's unit of work would only lengthen the
                # transaction, and with it how long other orders wait for the products' locks.
                order = Order(user_id=buyer, status="placed", total=total)
                await self.repository.insert(order)
                lines = [
                    OrderLine(
                        order_id=order.id,
                        product_id=line.product_id,
                        quantity=line.quantity,
                        unit_price=prices[line.product_id],
                    )
                    for line in wanted
                ]
                await self.lines.insert(*lines)
                # Last: every order contends for the same popular product rows, locked from here to
                # the commit. App B's service joins this transaction.
                await self.products.reserve(wanted)
        except (InsufficientStockError, UnknownProductError) as exc:  # in App A's words
            raise BusinessError(code=ORDER_CREATION_FAILED, message=exc.message, data=exc.data) from exc
        return self._out(order, lines)

    async def mine(self, identity: Identity, params: PageParams) -> Page[OrderOut]:
        orders, total = await self.page_entities(params, Order.user_id == UUID(identity.user_id))
        lines = await self.lines.get_many(OrderLine.order_id.in_([o.id for o in orders])) if orders else []
        by_order: dict[UUID, list[OrderLine]] = defaultdict(list)
        for line in lines:
            by_order[line.order_id].append(line)
        items = [self._out(order, by_order[order.id]) for order in orders]
        return Page.of(items, total, params.page, params.page_size)

    async def one(self, identity: Identity, order_id: UUID) -> OrderOut:
        """The order, for its owner or a holder of ``orders.read-any``; anybody else is told it does
        not exist."""
        order = await self.get_one_or_none(*self._visible(identity), id=order_id)
        if order is None:
            raise NotFoundError("No such order")
        return self._out(order, await self.lines.get_many(OrderLine.order_id == order.id))

    async def cancel(self, identity: Identity, order_id: UUID) -> OrderOut:
        """Give the stock and the money back, once; cancelling again is a conflict (409)."""
        order = await self.get_one_or_none(*self._visible(identity), id=order_id)
        if order is None:
            raise NotFoundError("No such order")
        async with self.transaction():
            if not await self.repository.mark_cancelled(order.id):
                raise ConflictError(code=ORDER_ALREADY_CANCELLED)
            lines = await self.lines.get_many(OrderLine.order_id == order.id)
            # The buyer's wallet, then the products': the order in which placing an order locks them.
            await self.wallets.credit(order.user_id, order.total)
            await self.products.release([StockLine(line.product_id, line.quantity) for line in lines])
            await self.session.refresh(order)
        return self._out(order, lines)

    @staticmethod
    def _visible(identity: Identity) -> list[ColumnElement[bool]]:
        return [] if identity.can(ORDERS_READ_ANY) else [Order.user_id == UUID(identity.user_id)]

    @staticmethod
    def _out(order: Order, lines: Sequence[OrderLine]) -> OrderOut:
        items = [OrderLineOut(line.product_id, line.quantity, line.unit_price) for line in lines]
        return OrderOut(
            id=order.id, status=order.status, total=order.total, items=items, created_at=order.created_at
        )
