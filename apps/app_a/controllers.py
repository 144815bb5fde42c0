"""App A's HTTP surface: parse, call a service, wrap in the envelope."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter, JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from apps.app_a.codes import (
    ACCOUNT_DISABLED,
    LINK_NOT_VALID,
    ORDER_ALREADY_CANCELLED,
    REFRESH_TOKEN_REUSED,
    ROLE_BUILT_IN,
    ROLE_IN_USE,
)
from apps.app_a.permissions import (
    ACCOUNTS_CREDIT,
    ACCOUNTS_MANAGE,
    ACCOUNTS_READ,
    AUDIT_READ,
    ORDERS_PLACE,
    ROLES_MANAGE,
)
from apps.app_a.schemas import (
    AccountChange,
    AddressIn,
    ApiKeyCreated,
    ApiKeyIn,
    Credit,
    LoginIn,
    OrderIn,
    OrderOut,
    PasswordResetIn,
    ProfileUpdate,
    RefreshIn,
    Registration,
    RoleIn,
    RoleOut,
    SessionOut,
    Tokens,
    UserOut,
)
from apps.app_a.services import (
    LOGIN_RATE_PER_ADDRESS,
    RESET_ROUTE,
    VERIFY_ROUTE,
    AccountService,
    ApiKeyService,
    OrderService,
    RoleService,
)
from apps.app_b.services import ProductService
from kami import ApiResponse, Codes, Page, RateLimit, responses, route_options, success
from kami.cache import Store
from kami.data import ApiKeyInfo, AuditRecord, AuditTrail, PageParams, read_events
from kami.jobs import Mailer
from kami.security import (
    ApiKeys,
    Identity,
    LoginSessions,
    PermissionCatalog,
    TokenSigner,
    require,
    require_user,
)

__all__ = [
    "AccountController",
    "ApiKeyController",
    "AuditController",
    "AuthController",
    "OrderController",
    "RecoveryController",
    "RoleController",
    "SessionController",
]


async def provide_roles(
    db_session: NamedDependency[AsyncSession],
    permission_catalog: NamedDependency[PermissionCatalog],
    login_sessions: NamedDependency[LoginSessions],
    audit: NamedDependency[AuditTrail],
) -> RoleService:
    return RoleService(session=db_session, catalog=permission_catalog, sessions=login_sessions, audit=audit)


async def provide_accounts(
    db_session: NamedDependency[AsyncSession],
    token_signer: NamedDependency[TokenSigner],
    store: NamedDependency[Store],
    login_sessions: NamedDependency[LoginSessions],
    roles: NamedDependency[RoleService],
    rate_tiers: NamedDependency[frozenset[str]],
    audit: NamedDependency[AuditTrail],
    api_keys: NamedDependency[ApiKeys],
    mailer: NamedDependency[Mailer],
) -> AccountService:
    return AccountService(
        session=db_session,
        signer=token_signer,
        store=store,
        sessions=login_sessions,
        roles=roles,
        audit=audit,
        keys=api_keys,
        tiers=rate_tiers,
        mailer=mailer,
    )


async def provide_api_keys(
    db_session: NamedDependency[AsyncSession],
    api_keys: NamedDependency[ApiKeys],
    permission_catalog: NamedDependency[PermissionCatalog],
    audit: NamedDependency[AuditTrail],
) -> ApiKeyService:
    return ApiKeyService(db_session, api_keys, permission_catalog, audit)


ACCOUNT_DEPENDENCIES = {"accounts": Provide(provide_accounts), "roles": Provide(provide_roles)}


async def provide_orders(
    db_session: NamedDependency[AsyncSession], products: NamedDependency[ProductService]
) -> OrderService:
    """``products`` is App B's exported service (``AppSpec.exports``), on this request's session."""
    return OrderService(session=db_session, products=products)


UserId = Annotated[UUID, Parameter(description="The user's id (UUID).")]
UserAgent = Annotated[
    str, HeaderParameter(name="user-agent", required=False, description="Shown in the session list.")
]
RolePath = Annotated[
    str,
    Parameter(
        description="The role's name: lowercase letters, digits and '-', from a letter.",
        pattern=r"^[a-z][a-z0-9-]*$",
        min_length=2,
        max_length=50,
    ),
]
SessionId = Annotated[str, Parameter(description="A session's id, as the session list gives it.")]
OrderId = Annotated[UUID, Parameter(description="The order's id (UUID).")]


class AuthController(Controller):
    path = "/v1/auth"
    dependencies = ACCOUNT_DEPENDENCIES

    @post(
        "/login",
        status_code=200,
        summary="Log in",
        description="Opens a session: access and refresh tokens for the right email and password. Wrong "
        "credentials are a business failure: HTTP 200 with code 1001; a deactivated account is refused "
        "(403 / 10004). After 10 failed attempts at one account from one "
        "address in 15 minutes, that address is refused for that account (a success clears the count; "
        "other addresses are not affected); every address makes at most 30 attempts a minute: "
        "429 / 4006 with `Retry-After` beyond.",
        opt=route_options(rate_limit=LOGIN_RATE_PER_ADDRESS),
        responses=responses(Codes.TOO_MANY_REQUESTS, ACCOUNT_DISABLED),
    )
    async def login(
        self,
        accounts: NamedDependency[AccountService],
        data: JSONBody[LoginIn],
        client_address: NamedDependency[str],
        user_agent: UserAgent = "",
    ) -> ApiResponse[Tokens]:
        return success(await accounts.login(data, client_address, user_agent))

    @post(
        "/refresh",
        status_code=200,
        summary="Refresh tokens",
        description="New tokens in the same session for a refresh token. Each refresh token works once: "
        "presenting it again ends its whole session (401 / 10002), since only a copy can be presented "
        "twice. An ended session's tokens are refused (401 / 1005).",
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.SESSION_ENDED, REFRESH_TOKEN_REUSED
        ),
    )
    async def refresh(
        self, accounts: NamedDependency[AccountService], data: JSONBody[RefreshIn]
    ) -> ApiResponse[Tokens]:
        return success(await accounts.refresh(data.refresh_token))

    @post(
        "/logout",
        status_code=200,
        summary="Log out",
        description="Ends this session: its access and refresh tokens are refused from now on.",
        guards=[require_user],
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.SESSION_ENDED),
    )
    async def logout(
        self, accounts: NamedDependency[AccountService], identity: NamedDependency[Identity]
    ) -> ApiResponse[None]:
        await accounts.logout(identity)
        return success(None, "Logged out")


ON_ITS_WAY = "If an account has this address, a message is on its way"
LINK_RATE = RateLimit(5, per="minute")  # per address: each request may send a message


class RecoveryController(Controller):
    """Password reset and address checks by email. The answers never tell whether an account exists."""

    path = "/v1/auth"
    dependencies = ACCOUNT_DEPENDENCIES

    @post(
        "/password-reset",
        status_code=202,
        summary="Ask for a password reset",
        description="Mails a link to reset the password (it works once, for an hour) if an account has "
        "this address. The answer is the same whether one does or not. At most 5 a minute per address.",
        opt=route_options(rate_limit=LINK_RATE),
        responses=responses(Codes.TOO_MANY_REQUESTS),
    )
    async def request_reset(
        self, accounts: NamedDependency[AccountService], data: JSONBody[AddressIn]
    ) -> ApiResponse[None]:
        await accounts.request_password_reset(data.email)
        return success(None, ON_ITS_WAY)

    @post(
        "/password-reset/confirm",
        status_code=200,
        name=RESET_ROUTE,
        summary="Reset the password",
        description="With the token from the emailed link: sets the new password and ends every session "
        "of the account. A used, expired or unknown token is 404 / 10007.",
        responses=responses(LINK_NOT_VALID),
    )
    async def reset(
        self, accounts: NamedDependency[AccountService], data: JSONBody[PasswordResetIn]
    ) -> ApiResponse[None]:
        await accounts.reset_password(data.token, data.password)
        return success(None, "Password changed; log in with it")

    @get(
        "/verify-email",
        name=VERIFY_ROUTE,
        summary="Confirm an address",
        description="The link mailed at registration: marks the account's address as confirmed. A used, "
        "expired or unknown token is 404 / 10007.",
        responses=responses(LINK_NOT_VALID),
    )
    async def verify_email(
        self,
        accounts: NamedDependency[AccountService],
        token: Annotated[str, Parameter(description="From the emailed link.", min_length=1, max_length=200)],
    ) -> ApiResponse[None]:
        await accounts.confirm_address(token)
        return success(None, "Address confirmed")

    @post(
        "/verify-email/resend",
        status_code=202,
        summary="Send the address check again",
        description="Mails a new confirmation link if an unconfirmed account has this address; the answer "
        "is the same either way. At most 5 a minute per address.",
        opt=route_options(rate_limit=LINK_RATE),
        responses=responses(Codes.TOO_MANY_REQUESTS),
    )
    async def resend_check(
        self, accounts: NamedDependency[AccountService], data: JSONBody[AddressIn]
    ) -> ApiResponse[None]:
        await accounts.request_address_check(data.email)
        return success(None, ON_ITS_WAY)


class SessionController(Controller):
    path = "/v1/sessions"
    guards = [require_user]
    dependencies = ACCOUNT_DEPENDENCIES

    @get(
        "/",
        summary="My sessions",
        description="The caller's live sessions, newest first: when each began and was last used, from "
        "which address and user agent; `current` marks the one this request belongs to.",
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.SESSION_ENDED),
    )
    async def my_sessions(
        self, accounts: NamedDependency[AccountService], identity: NamedDependency[Identity]
    ) -> ApiResponse[list[SessionOut]]:
        return success(await accounts.my_sessions(identity))

    @delete(
        "/{session_id:str}",
        status_code=200,
        summary="End one of my sessions",
        description="Its tokens are refused from now on (404 when the caller has no such live session).",
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.SESSION_ENDED, Codes.NOT_FOUND),
    )
    async def revoke_session(
        self,
        accounts: NamedDependency[AccountService],
        identity: NamedDependency[Identity],
        session_id: SessionId,
    ) -> ApiResponse[None]:
        await accounts.revoke_session(identity, session_id)
        return success(None, "Session ended")


class AccountController(Controller):
    path = "/v1/users"
    dependencies = ACCOUNT_DEPENDENCIES

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
        description="Change the username and/or the password. A new password ends every other session.",
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
        description="Paginated.",
        guards=[require(ACCOUNTS_READ)],
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED),
    )
    async def list_users(
        self, accounts: NamedDependency[AccountService], page_params: NamedDependency[PageParams]
    ) -> ApiResponse[Page[UserOut]]:
        return success(await accounts.accounts(page_params))

    @get(
        "/{user_id:uuid}",
        summary="Get an account",
        guards=[require(ACCOUNTS_READ)],
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
        description="Adds `amount` to the user's balance; send an `Idempotency-Key` to make a retry safe.",
        guards=[require(ACCOUNTS_CREDIT)],
        opt=route_options(idempotent=True),
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED, Codes.NOT_FOUND
        ),
    )
    async def credit(
        self, accounts: NamedDependency[AccountService], user_id: UserId, data: JSONBody[Credit]
    ) -> ApiResponse[UserOut]:
        return success(await accounts.credit(user_id, data))

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
        self, accounts: NamedDependency[AccountService], user_id: UserId, data: JSONBody[AccountChange]
    ) -> ApiResponse[UserOut]:
        return success(await accounts.change(user_id, data))

    @delete(
        "/{user_id:uuid}",
        status_code=200,
        summary="Delete an account",
        description="Anonymises it: the email, username and password are erased and its sessions end; its "
        "orders stay, no longer naming anyone.",
        guards=[require(ACCOUNTS_MANAGE)],
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED, Codes.NOT_FOUND
        ),
    )
    async def delete_account(
        self, accounts: NamedDependency[AccountService], user_id: UserId
    ) -> ApiResponse[None]:
        await accounts.remove(user_id)
        return success(None, "Deleted")


class RoleController(Controller):
    path = "/v1/roles"
    dependencies = {"roles": Provide(provide_roles)}
    guards = [require(ROLES_MANAGE)]

    @get(
        "/",
        summary="Roles",
        description="The built-in roles (`user`, `admin`) and those defined, with their permissions.",
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED),
    )
    async def list_roles(self, roles: NamedDependency[RoleService]) -> ApiResponse[list[RoleOut]]:
        return success(await roles.roles())

    @put(
        "/{name:str}",
        summary="Define a role",
        description="Creates or replaces the role: a set of declared permissions (one no mounted app "
        "declares is 404 / 4001). Everyone holding it gets the new set at once.",
        opt=route_options(idempotent=True),
        responses=responses(
            Codes.UNAUTHENTICATED,
            Codes.TOKEN_EXPIRED,
            Codes.PERMISSION_DENIED,
            Codes.NOT_FOUND,
            ROLE_BUILT_IN,
        ),
    )
    async def define_role(
        self,
        roles: NamedDependency[RoleService],
        name: RolePath,
        data: JSONBody[RoleIn],
    ) -> ApiResponse[RoleOut]:
        return success(await roles.define(name, data))

    @delete(
        "/{name:str}",
        status_code=200,
        summary="Remove a role",
        description="Only a defined role nobody holds (409 / 10006 while someone does).",
        opt=route_options(idempotent=True),
        responses=responses(
            Codes.UNAUTHENTICATED,
            Codes.TOKEN_EXPIRED,
            Codes.PERMISSION_DENIED,
            Codes.NOT_FOUND,
            ROLE_BUILT_IN,
            ROLE_IN_USE,
        ),
    )
    async def remove_role(self, roles: NamedDependency[RoleService], name: RolePath) -> ApiResponse[None]:
        await roles.remove(name)
        return success(None, "Removed")


KeyId = Annotated[str, Parameter(description="The key's id (the part after `kami_`, before the next `_`).")]


class ApiKeyController(Controller):
    path = "/v1/api-keys"
    guards = [require_user]
    dependencies = {"keys": Provide(provide_api_keys)}

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
        keys: NamedDependency[ApiKeyService],
        identity: NamedDependency[Identity],
        data: JSONBody[ApiKeyIn],
    ) -> ApiResponse[ApiKeyCreated]:
        return success(await keys.create(identity, data), "Created")

    @get(
        "/",
        summary="My API keys",
        description="The caller's live keys, newest first, with their last use (never their secrets).",
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED),
    )
    async def my_keys(
        self, keys: NamedDependency[ApiKeyService], identity: NamedDependency[Identity]
    ) -> ApiResponse[list[ApiKeyInfo]]:
        return success(await keys.mine(identity))

    @delete(
        "/{key_id:str}",
        status_code=200,
        summary="Revoke an API key",
        description="Refused from the next request on, by every worker. One's own key, or anyone's with "
        "`app-a:accounts.manage`; 404 otherwise.",
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.NOT_FOUND),
    )
    async def revoke_key(
        self, keys: NamedDependency[ApiKeyService], identity: NamedDependency[Identity], key_id: KeyId
    ) -> ApiResponse[None]:
        await keys.revoke(identity, key_id)
        return success(None, "Revoked")


AuditFilter = Annotated[str | None, Parameter(description="Exact match.", max_length=320)]


class AuditController(Controller):
    path = "/v1/audit"
    guards = [require(AUDIT_READ)]

    @get(
        "/",
        summary="The audit trail",
        description="Security events, newest first: logins and their failures, logouts, ended sessions, "
        "password changes, admins' changes to accounts and roles. Filter by exact `action`, `actor` (an "
        "account id, `anonymous` or `cli`) and `target`, and by day (`since`, `until`, both included). "
        "Each record carries the hash that chains it to the one before (`kami audit verify`).",
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED),
    )
    async def audit_trail(
        self,
        db_session: NamedDependency[AsyncSession],
        page_params: NamedDependency[PageParams],
        action: AuditFilter = None,
        actor: AuditFilter = None,
        target: AuditFilter = None,
        since: Annotated[date | None, Parameter(description="From this day (UTC), e.g. 2026-11-30.")] = None,
        until: Annotated[date | None, Parameter(description="To this day (UTC), included.")] = None,
    ) -> ApiResponse[Page[AuditRecord]]:
        events = await read_events(
            db_session, page_params, action=action, actor=actor, target=target, since=since, until=until
        )
        return success(events)


class OrderController(Controller):
    path = "/v1/orders"
    guards = [require_user]
    dependencies = {"orders": Provide(provide_orders)}

    @post(
        "/",
        guards=[require(ORDERS_PLACE)],
        summary="Place an order",
        description="Reserves the stock and debits the balance in one transaction. Not enough stock: HTTP "
        "200 with code 2001; not enough balance: 2003; in both cases nothing is written. Send an "
        "`Idempotency-Key` header to make retries safe: the key's answer is stored with the order.",
        opt=route_options(idempotent=True),
        responses=responses(
            Codes.UNAUTHENTICATED,
            Codes.TOKEN_EXPIRED,
            Codes.PERMISSION_DENIED,
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
        description="For its owner, or a caller with `app-a:orders.read-any`; anybody else gets 404.",
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
