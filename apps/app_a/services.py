"""App A's business rules: accounts, authentication and orders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

import msgspec
import structlog
from opentelemetry import trace
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from apps.app_a.codes import ORDER_ALREADY_CANCELLED, REFRESH_TOKEN_REUSED
from apps.app_a.models import Order, OrderLine, User
from apps.app_a.passwords import hash_password, verify_password
from apps.app_a.repositories import OrderLineRepository, OrderRepository, UserRepository
from apps.app_a.schemas import (
    Credit,
    LoginIn,
    OrderIn,
    OrderLineOut,
    OrderOut,
    ProfileUpdate,
    Registration,
    Tokens,
    UserOut,
)
from apps.app_b.errors import InsufficientStockError, UnknownProductError
from apps.app_b.services import ProductService, StockLine
from kami import (
    AuthenticationError,
    BusinessError,
    Codes,
    ConflictError,
    NotFoundError,
    Page,
    RateLimit,
    events,
    to_decimal,
)
from kami.cache import Store
from kami.data import PageParams, Service
from kami.security import FailureLimiter, Identity, TokenSigner

__all__ = ["AccountService", "OrderService"]

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)


LOGIN_FAILURES = (10, 15 * 60.0)  # failed logins per account and address, seconds
LOGIN_RATE_PER_ADDRESS = RateLimit(30, per="minute")  # the login route's own (anonymous callers: by address)


class AccountService(Service[User, UserOut]):
    repository_type = UserRepository
    out_type = UserOut
    repository: UserRepository

    def __init__(
        self, session: AsyncSession, signer: TokenSigner | None = None, store: Store | None = None
    ) -> None:
        super().__init__(session)
        self.signer = signer
        self.store = store

    async def register(self, data: Registration, role: str = "user") -> UserOut:
        """A new account; a taken email or username is answered 409 / 4002."""
        password_hash = await hash_password(data.password)
        async with self.transaction():
            user = await self.create(
                User(email=data.email.lower(), username=data.username, password_hash=password_hash, role=role)
            )
        return self.to_out(user)

    async def promote(self, email: str) -> UserOut | None:
        """Make the account with ``email`` an administrator; None when there is no such account."""
        async with self.transaction():
            user = await self.get_one_or_none(email=email.lower())
            if user is None:
                return None
            user.role = "admin"
            await self.session.flush()
        return self.to_out(user)

    async def login(self, data: LoginIn, address: str) -> Tokens:
        """Tokens for the right password; a business failure (HTTP 200, 1001) otherwise. After
        ``LOGIN_FAILURES`` failed attempts at one account from one address, that address is refused
        (429) for that account until the window lets go; a success clears the count."""
        assert self.store is not None  # the request's provider gives one, as for refresh
        limiter = FailureLimiter(self.store, "login", *LOGIN_FAILURES)
        await limiter.check(data.email, address)
        user = await self.get_one_or_none(email=data.email.lower())
        if not await verify_password(user.password_hash if user else None, data.password) or user is None:
            await limiter.failed(data.email, address)
            raise BusinessError(code=Codes.LOGIN_FAILED, message="Wrong email or password")
        await limiter.succeeded(data.email, address)
        return self._tokens(user)

    async def refresh(self, refresh_token: str) -> Tokens:
        """New tokens for a refresh token, which is then spent: using it twice is refused."""
        assert self.signer is not None
        assert self.store is not None
        claims = self.signer.verify(refresh_token, expected="refresh")
        spent = self.store.key("refresh-spent", claims.jti)
        if not await self.store.backend.set(
            spent, b"1", ttl=float(self.signer.ttl["refresh"]), only_if_absent=True
        ):
            raise AuthenticationError(code=REFRESH_TOKEN_REUSED)
        user = await self.get_one_or_none(id=UUID(claims.sub))
        if user is None:
            raise AuthenticationError("The account no longer exists")
        return self._tokens(user)

    def _tokens(self, user: User) -> Tokens:
        assert self.signer is not None
        access, _ = self.signer.issue(str(user.id), user.role, "access", tier=user.tier)
        refresh, _ = self.signer.issue(str(user.id), user.role, "refresh", tier=user.tier)
        return Tokens(
            access_token=access,
            refresh_token=refresh,
            token_type="Bearer",
            expires_in=self.signer.ttl["access"],
        )

    async def profile(self, identity: Identity) -> UserOut:
        return await self.account(UUID(identity.user_id))

    async def account(self, user_id: UUID) -> UserOut:
        user = await self.get_one_or_none(id=user_id)
        if user is None:
            raise NotFoundError("No such user")
        return self.to_out(user)

    async def update_profile(self, identity: Identity, data: ProfileUpdate) -> UserOut:
        changes = msgspec.to_builtins(data)
        new_hash = await hash_password(data.password) if isinstance(data.password, str) else None
        async with self.transaction():
            user = await self.get(UUID(identity.user_id))
            if "username" in changes:
                user.username = changes["username"]
            if new_hash:
                user.password_hash = new_hash
            await self.session.flush()
        return self.to_out(user)

    async def accounts(self, params: PageParams) -> Page[UserOut]:
        return await self.page(params)

    async def credit(self, user_id: UUID, data: Credit) -> UserOut:
        async with self.transaction():
            if not await self.repository.credit(user_id, to_decimal(data.amount)):
                raise NotFoundError("No such user")
        return await self.account(user_id)


class OrderService(Service[Order, OrderOut]):
    """Placing an order prices the lines, debits the buyer, writes the order and reserves App B's
    stock in one transaction: on any failure nothing at all is written. Prices are those read when
    the order starts (no lock); stock is taken last, so the contended product rows stay locked only
    for the reservation and the commit."""

    repository_type = OrderRepository
    repository: OrderRepository

    def __init__(self, session: AsyncSession, products: ProductService) -> None:
        super().__init__(session)
        self.products = products
        self.accounts = UserRepository(session=session)
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
                if not await self.accounts.debit(buyer, total):
                    raise BusinessError(code=Codes.INSUFFICIENT_BALANCE, data={"total": str(total)})
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
            raise BusinessError(code=Codes.ORDER_CREATION_FAILED, message=exc.message, data=exc.data) from exc
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
        """The order, for its owner or an admin; anybody else is told it does not exist."""
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
            # The buyer's row, then the products': the order in which placing an order locks them.
            await self.accounts.credit(order.user_id, order.total)
            await self.products.release([StockLine(line.product_id, line.quantity) for line in lines])
            await self.session.refresh(order)
        return self._out(order, lines)

    @staticmethod
    def _visible(identity: Identity) -> list[ColumnElement[bool]]:
        return [] if identity.is_admin else [Order.user_id == UUID(identity.user_id)]

    @staticmethod
    def _out(order: Order, lines: Sequence[OrderLine]) -> OrderOut:
        items = [OrderLineOut(line.product_id, line.quantity, line.unit_price) for line in lines]
        return OrderOut(
            id=order.id, status=order.status, total=order.total, items=items, created_at=order.created_at
        )
