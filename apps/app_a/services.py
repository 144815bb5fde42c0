"""App A's business rules: accounts, authentication and orders."""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import msgspec
import structlog
from opentelemetry import trace
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from apps.app_a.codes import (
    ACCOUNT_DISABLED,
    LINK_NOT_VALID,
    ORDER_ALREADY_CANCELLED,
    REFRESH_TOKEN_REUSED,
    ROLE_BUILT_IN,
    ROLE_IN_USE,
)
from apps.app_a.models import ACTIVE, DELETED, DISABLED, Order, OrderLine, Role, User
from apps.app_a.passwords import hash_password, verify_password
from apps.app_a.permissions import ACCOUNTS_MANAGE, ORDERS_READ_ANY
from apps.app_a.repositories import OrderLineRepository, OrderRepository, RoleRepository, UserRepository
from apps.app_a.schemas import (
    AccountChange,
    ApiKeyCreated,
    ApiKeyIn,
    Credit,
    LoginIn,
    OrderIn,
    OrderLineOut,
    OrderOut,
    ProfileUpdate,
    Registration,
    RoleIn,
    RoleOut,
    SessionOut,
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
    PermissionDeniedError,
    RateLimit,
    events,
    to_decimal,
)
from kami.cache import Store
from kami.data import ApiKeyInfo, AuditTrail, PageParams, Service, keys_of, new_key, revoke_key, transaction
from kami.jobs import Mailer
from kami.security import (
    ADMIN_ROLE,
    BUILT_IN_ROLES,
    USER_ROLE,
    ApiKeys,
    FailureLimiter,
    Identity,
    LoginSessions,
    PermissionCatalog,
    TokenSigner,
)

__all__ = ["AccountService", "ApiKeyService", "OrderService", "RoleService"]

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)


LOGIN_FAILURES = (10, 15 * 60.0)  # failed logins per account and address, seconds
RESET_LINK_SECONDS = 3600  # a password-reset link works once, for an hour
VERIFY_LINK_SECONDS = 7 * 86400  # an address-check link works once, for a week
RESET_ROUTE, VERIFY_ROUTE = "reset-password", "verify-email"  # the routes the emailed links open
LOGIN_RATE_PER_ADDRESS = RateLimit(30, per="minute")  # the login route's own (anonymous callers: by address)


class RoleService(Service[Role, RoleOut]):
    """Roles: the built-in ``user`` and ``admin`` (from the apps' declarations) and those admins define.
    Changing a role changes the sessions of everyone who holds it, at once."""

    repository_type = RoleRepository
    out_type = RoleOut
    repository: RoleRepository

    def __init__(
        self, session: AsyncSession, catalog: PermissionCatalog, sessions: LoginSessions, audit: AuditTrail
    ) -> None:
        super().__init__(session)
        self.catalog = catalog
        self.sessions = sessions
        self.audit = audit

    async def permissions_of(self, role: str) -> frozenset[str]:
        """What ``role`` may do now: a built-in role's set, a defined role's permissions that some
        mounted app still declares, nothing for a role that no longer exists."""
        built_in = self.catalog.built_in(role)
        if built_in is not None:
            return built_in
        found = await self.get_one_or_none(name=role)
        return frozenset(found.permissions) & frozenset(self.catalog.declared) if found else frozenset()

    async def is_defined(self, role: str) -> bool:
        return role in BUILT_IN_ROLES or await self.get_one_or_none(name=role) is not None

    async def roles(self) -> list[RoleOut]:
        built_in = [
            RoleOut(
                name=name,
                description=f"Built in ({name})",
                permissions=sorted(self.catalog.built_in(name) or ()),
                built_in=True,
            )
            for name in BUILT_IN_ROLES
        ]
        defined = sorted(await self.repository.get_many(), key=lambda role: role.name)
        return [*built_in, *(self._out(role) for role in defined)]

    async def define(self, name: str, data: RoleIn) -> RoleOut:
        """Create or replace the role ``name``; its holders' sessions change at once."""
        if name in BUILT_IN_ROLES:
            raise ConflictError(code=ROLE_BUILT_IN)
        self.catalog.check(data.permissions)
        async with self.transaction():
            role = await self.get_one_or_none(name=name)
            if role is None:
                role = await self.create(Role(name=name))
            role.description = data.description
            role.permissions = sorted(set(data.permissions))
            await self.session.flush()
            await self.audit.record("role.defined", name, {"permissions": role.permissions})
        await self._refresh_holders(name)
        return self._out(role)

    async def remove(self, name: str) -> None:
        """Remove a defined role nobody holds (409 while someone does)."""
        if name in BUILT_IN_ROLES:
            raise ConflictError(code=ROLE_BUILT_IN)
        async with self.transaction():
            role = await self.get_one_or_none(name=name)
            if role is None:
                raise NotFoundError("No such role")
            if await UserRepository(session=self.session).count(User.role == name):
                raise ConflictError(code=ROLE_IN_USE)
            await self.delete(role.id)
            await self.audit.record("role.removed", name)

    async def _refresh_holders(self, name: str) -> None:
        permissions = await self.permissions_of(name)
        for user in await UserRepository(session=self.session).get_many(User.role == name):
            await self.sessions.update_account(Identity(str(user.id), user.role, user.tier, permissions))

    @staticmethod
    def _out(role: Role) -> RoleOut:
        return RoleOut(
            name=role.name, description=role.description, permissions=list(role.permissions), built_in=False
        )


class ApiKeyService:
    """API keys for service clients: made by a signed-in person (never by another key), carrying some
    of their permissions and their tier; revoked at once everywhere (the store's copies go with it)."""

    def __init__(
        self,
        session: AsyncSession,
        keys: ApiKeys,
        catalog: PermissionCatalog,
        audit: AuditTrail,
    ) -> None:
        self.session = session
        self.keys = keys
        self.catalog = catalog
        self.audit = audit
        self.users = UserRepository(session=session)

    async def create(self, identity: Identity, data: ApiKeyIn) -> ApiKeyCreated:
        if identity.api_key:
            raise PermissionDeniedError("An API key cannot make API keys: sign in")
        self.catalog.check(data.permissions)
        missing = sorted(name for name in data.permissions if not identity.holds(name))
        if missing:
            raise PermissionDeniedError(f"You cannot give what you do not hold: {', '.join(missing)}")
        account = await self.users.get_one_or_none(id=UUID(identity.user_id))
        if account is None:
            raise NotFoundError("No such user")
        days = data.expires_in_days
        expires = datetime.now(UTC) + timedelta(days=days) if isinstance(days, int) else None
        async with transaction(self.session):
            key, text = await new_key(
                self.session, identity.user_id, data.name, data.permissions, account.tier, expires
            )
            await self.audit.record(
                "api-key.created", identity.user_id, {"key": key.id, "permissions": key.permissions}
            )
        return ApiKeyCreated(**msgspec.structs.asdict(ApiKeyInfo.of(key)), key=text)

    async def mine(self, identity: Identity) -> list[ApiKeyInfo]:
        return [ApiKeyInfo.of(key) for key in await keys_of(self.session, identity.user_id)]

    async def revoke(self, identity: Identity, key_id: str) -> None:
        """The owner's own key, or anyone's for a holder of ``app-a:accounts.manage``."""
        owner = None if identity.can(ACCOUNTS_MANAGE) else identity.user_id
        await self.keys.forget(key_id)
        async with transaction(self.session):
            if not await revoke_key(self.session, key_id, owner):
                raise NotFoundError("No such API key")
            await self.audit.record("api-key.revoked", identity.user_id, {"key": key_id})
        await self.keys.forget(key_id)


class AccountService(Service[User, UserOut]):
    """Accounts and their login sessions. Each change to an account reaches its sessions in the same
    call: a deactivated or deleted account's sessions end (before and after the commit, so a login
    racing the change cannot keep one), a new role or tier is written into them after the commit."""

    repository_type = UserRepository
    out_type = UserOut
    repository: UserRepository

    def __init__(
        self,
        session: AsyncSession,
        sessions: LoginSessions,
        roles: RoleService,
        audit: AuditTrail,
        keys: ApiKeys,
        signer: TokenSigner | None = None,
        store: Store | None = None,
        tiers: frozenset[str] = frozenset(),
        mailer: Mailer | None = None,
    ) -> None:
        super().__init__(session)
        self.signer = signer
        self.store = store
        self.sessions = sessions
        self.roles = roles
        self.audit = audit
        self.keys = keys
        self.tiers = tiers
        self.mailer = mailer

    async def register(self, data: Registration, role: str = USER_ROLE) -> UserOut:
        """A new account; a taken email or username is answered 409 / 4002. A message asks the owner of
        the address to confirm it."""
        password_hash = await hash_password(data.password)
        async with self.transaction():
            user = await self.create(
                User(email=data.email.lower(), username=data.username, password_hash=password_hash, role=role)
            )
        await self._send_address_check(user)
        return self.to_out(user)

    async def request_address_check(self, email: str) -> None:
        """Send the address-check message again, if an unconfirmed account has this address (the
        answer is the same either way: it never tells whether an account exists)."""
        user = await self.get_one_or_none(email=email.lower())
        if user is not None and user.status == ACTIVE and not user.email_verified:
            await self._send_address_check(user)

    async def confirm_address(self, token: str) -> None:
        user = await self._redeem("verify", token)
        async with self.transaction():
            user.email_verified = True
            await self.session.flush()
            await self.audit.record("email.verified", str(user.id), actor=str(user.id))

    async def request_password_reset(self, email: str) -> None:
        """Mail a single-use link (an hour) to the address, if an active account has it; the answer
        is the same either way."""
        user = await self.get_one_or_none(email=email.lower())
        if user is None or user.status != ACTIVE:
            return
        assert self.mailer is not None  # the request's provider gives one
        token = await self._one_time("reset", user, RESET_LINK_SECONDS)
        link = self.mailer.link(RESET_ROUTE, token=token)
        body = (
            f"Someone asked to reset the password of the account {user.username}.\n\n"
            f"To choose a new one, open this link within the hour (it works once):\n{link}\n\n"
            "If it was not you, ignore this message: your password stays as it is."
        )
        await self.mailer.send(user.email, "Reset your password", body)
        await self.audit.record("password.reset-requested", str(user.id))

    async def reset_password(self, token: str, password: str) -> None:
        """Set the new password and end every session of the account."""
        user = await self._redeem("reset", token)
        new_hash = await hash_password(password)
        async with self.transaction():
            user.password_hash = new_hash
            await self.session.flush()
            await self.audit.record("password.reset", str(user.id), actor=str(user.id))
        await self.sessions.revoke_all(str(user.id))

    async def _send_address_check(self, user: User) -> None:
        if self.mailer is None:  # made on the command line: nobody to ask
            return
        token = await self._one_time("verify", user, VERIFY_LINK_SECONDS)
        link = self.mailer.link(VERIFY_ROUTE, token=token)
        body = (
            f"Welcome, {user.username}. To confirm that this address is yours, open this link within "
            f"a week:\n{link}\n\nIf you did not make an account, ignore this message."
        )
        await self.mailer.send(user.email, "Confirm your address", body)

    async def _one_time(self, purpose: str, user: User, seconds: int) -> str:
        """A random token for ``purpose``; only its hash is kept, in the store, for ``seconds``."""
        assert self.store is not None
        token = secrets.token_urlsafe(32)
        await self.store.backend.set(
            self._link_key(purpose, token), str(user.id).encode(), ttl=float(seconds)
        )
        return token

    async def _redeem(self, purpose: str, token: str) -> User:
        """The account a token was made for, spending the token (once, even when two race)."""
        assert self.store is not None
        key = self._link_key(purpose, token)
        owner = await self.store.backend.get(key)
        if owner is None or not await self.store.backend.delete_if_value(key, owner):
            raise NotFoundError(code=LINK_NOT_VALID)
        user = await self.get_one_or_none(id=UUID(owner.decode()))
        if user is None or user.status != ACTIVE:
            raise NotFoundError(code=LINK_NOT_VALID)
        return user

    def _link_key(self, purpose: str, token: str) -> str:
        assert self.store is not None
        return self.store.key(purpose, hashlib.sha256(token.encode()).hexdigest())

    async def promote(self, email: str) -> UserOut | None:
        """Make the account with ``email`` an administrator; None when there is no such account."""
        user = await self.get_one_or_none(email=email.lower())
        return None if user is None else await self.change(user.id, AccountChange(role=ADMIN_ROLE))

    async def login(self, data: LoginIn, address: str, user_agent: str) -> Tokens:
        """A new session and its tokens for the right password; a business failure (HTTP 200, 1001)
        otherwise. After ``LOGIN_FAILURES`` failed attempts at one account from one address, that
        address is refused (429) for that account until the window lets go; a success clears the count."""
        assert self.store is not None  # the request's provider gives it (the command line has none)
        limiter = FailureLimiter(self.store, "login", *LOGIN_FAILURES)
        await limiter.check(data.email, address)
        user = await self.get_one_or_none(email=data.email.lower())
        if not await verify_password(user.password_hash if user else None, data.password) or user is None:
            await limiter.failed(data.email, address)
            await self.audit.record("login.failed", data.email.lower())
            raise BusinessError(code=Codes.LOGIN_FAILED, message="Wrong email or password")
        await limiter.succeeded(data.email, address)
        if user.status != ACTIVE:
            refused = {"status": user.status}
            await self.audit.record("login.refused", str(user.id), refused, actor=str(user.id))
            raise PermissionDeniedError(code=ACCOUNT_DISABLED)
        record = await self.sessions.open(await self._identity(user), address, user_agent)
        await self.audit.record("login.succeeded", str(user.id), {"session": record.id}, actor=str(user.id))
        return self._tokens(str(user.id), record.id)

    async def refresh(self, refresh_token: str) -> Tokens:
        """New tokens in the same session for a refresh token, which is then spent. Presenting a spent
        one again means it was copied: the whole session ends (401 / 10002)."""
        assert self.signer is not None
        assert self.store is not None
        claims = self.signer.verify(refresh_token, expected="refresh")
        spent = self.store.key("refresh-spent", claims.jti)
        if not await self.store.backend.set(
            spent, b"1", ttl=float(self.signer.ttl["refresh"]), only_if_absent=True
        ):
            await self.sessions.revoke(claims.sub, claims.sid)
            log.warning("refresh token reused: session revoked", user_id=claims.sub, session_id=claims.sid)
            await self.audit.record("session.reuse-detected", claims.sub, {"session": claims.sid})
            raise AuthenticationError(code=REFRESH_TOKEN_REUSED)
        record = await self.sessions.find(claims.sid)
        if record is None or record.user_id != claims.sub:
            raise AuthenticationError(code=Codes.SESSION_ENDED)
        if await self.sessions.touch(record, extend=True) is None:
            raise AuthenticationError(code=Codes.SESSION_ENDED)
        return self._tokens(claims.sub, claims.sid)

    async def logout(self, identity: Identity) -> None:
        await self.sessions.revoke(identity.user_id, identity.session_id)
        await self.audit.record("logout", identity.user_id, {"session": identity.session_id})

    async def my_sessions(self, identity: Identity) -> list[SessionOut]:
        return [
            SessionOut(
                id=r.id,
                created_at=_time(r.created_at),
                last_used_at=_time(r.last_used_at),
                expires_at=_time(r.expires_at),
                address=r.address,
                user_agent=r.user_agent,
                current=r.id == identity.session_id,
            )
            for r in await self.sessions.of_account(identity.user_id)
        ]

    async def revoke_session(self, identity: Identity, session_id: str) -> None:
        if not await self.sessions.revoke(identity.user_id, session_id):
            raise NotFoundError("No such session")
        await self.audit.record("session.revoked", identity.user_id, {"session": session_id})

    def _tokens(self, user_id: str, session_id: str) -> Tokens:
        assert self.signer is not None
        access, _ = self.signer.issue(user_id, session_id, "access")
        refresh, _ = self.signer.issue(user_id, session_id, "refresh")
        return Tokens(
            access_token=access,
            refresh_token=refresh,
            token_type="Bearer",
            expires_in=self.signer.ttl["access"],
        )

    async def _identity(self, user: User) -> Identity:
        return Identity(str(user.id), user.role, user.tier, await self.roles.permissions_of(user.role))

    async def profile(self, identity: Identity) -> UserOut:
        return await self.account(UUID(identity.user_id))

    async def account(self, user_id: UUID) -> UserOut:
        user = await self.get_one_or_none(id=user_id)
        if user is None:
            raise NotFoundError("No such user")
        return self.to_out(user)

    async def update_profile(self, identity: Identity, data: ProfileUpdate) -> UserOut:
        """A new password ends every other session of the account (this one goes on)."""
        changes = msgspec.to_builtins(data)
        new_hash = await hash_password(data.password) if isinstance(data.password, str) else None
        async with self.transaction():
            user = await self.get(UUID(identity.user_id))
            if "username" in changes:
                user.username = changes["username"]
            if new_hash:
                user.password_hash = new_hash
            await self.session.flush()
            if new_hash:
                await self.audit.record("password.changed", identity.user_id)
        if new_hash:
            await self.sessions.revoke_all(identity.user_id, keep=identity.session_id)
        return self.to_out(user)

    async def change(self, user_id: UUID, data: AccountChange) -> UserOut:
        """An admin's change of status, role or tier, checked against what exists."""
        if isinstance(data.role, str) and not await self.roles.is_defined(data.role):
            raise NotFoundError(f"No role named {data.role!r}")
        if isinstance(data.tier, str) and data.tier not in self.tiers:
            raise NotFoundError(
                f"No rate-limit tier named {data.tier!r} (tiers: {', '.join(sorted(self.tiers))})"
            )
        disabling, revoked = data.status == DISABLED, list[str]()
        async with self.transaction():
            user = await self.get_one_or_none(id=user_id)
            if user is None or user.status == DELETED:
                raise NotFoundError("No such user")
            changes: dict[str, list[str]] = {}
            for name in ("status", "role", "tier"):
                value, before = getattr(data, name), getattr(user, name)
                if isinstance(value, str) and value != before:
                    changes[name] = [before, value]
                    setattr(user, name, value)
            await self.session.flush()
            if changes:
                await self.audit.record("account.changed", str(user_id), changes)
            if disabling:
                revoked = await self._end_access(str(user_id))
        if disabling:
            await self._end_access(str(user_id), revoked)
        else:
            await self.sessions.update_account(await self._identity(user))
        return self.to_out(user)

    async def remove(self, user_id: UUID) -> None:
        """Anonymise the account: its orders stay (for the books), nothing names the person, nobody can
        log in to it, its sessions end."""
        async with self.transaction():
            user = await self.get_one_or_none(id=user_id)
            if user is None or user.status == DELETED:
                raise NotFoundError("No such user")
            user.email = f"deleted-{user.id}@deleted.invalid"
            user.username = f"deleted-{user.id.hex[:24]}"
            user.password_hash = "!"  # matches no password
            user.status = DELETED
            await self.session.flush()
            await self.audit.record("account.deleted", str(user_id))
            revoked = await self._end_access(str(user_id))
        await self._end_access(str(user_id), revoked)

    async def _end_access(self, user_id: str, revoked: list[str] | None = None) -> list[str]:
        """End every session and revoke every API key of the account; the keys revoked. Called inside
        the change's transaction, then after its commit with those keys: a login or a key check racing
        the change cannot keep access it read before the commit (a session it opened, a key's copy)."""
        if revoked is None:
            revoked = await revoke_key(self.session, "", user_id)
        await self.sessions.revoke_all(user_id)
        await self.keys.forget(*revoked)
        return revoked

    async def accounts(self, params: PageParams) -> Page[UserOut]:
        return await self.page(params)

    async def credit(self, user_id: UUID, data: Credit) -> UserOut:
        async with self.transaction():
            if not await self.repository.credit(user_id, to_decimal(data.amount)):
                raise NotFoundError("No such user")
            await self.audit.record("account.credited", str(user_id), {"amount": data.amount})
        return await self.account(user_id)


def _time(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


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
        return [] if identity.can(ORDERS_READ_ANY) else [Order.user_id == UUID(identity.user_id)]

    @staticmethod
    def _out(order: Order, lines: Sequence[OrderLine]) -> OrderOut:
        items = [OrderLineOut(line.product_id, line.quantity, line.unit_price) for line in lines]
        return OrderOut(
            id=order.id, status=order.status, total=order.total, items=items, created_at=order.created_at
        )
