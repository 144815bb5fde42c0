"""Logging in and out: sessions and their tokens, refresh with reuse detection, the session list."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kami.accounts.canonical import canonical
from kami.accounts.models import ACTIVE, Account
from kami.accounts.passwords import verify_password
from kami.accounts.repositories import AccountRepository
from kami.accounts.role_service import RoleService
from kami.accounts.schemas import LoginIn, SessionOut, Tokens
from kami.accounts.sessions import LoginSessions, SessionRecord
from kami.codes import Codes
from kami.db.audit import AuditTrail
from kami.errors import AuthenticationError, BusinessError, NotFoundError, PermissionDeniedError
from kami.routes import RateLimit
from kami.security.attempts import FailureLimiter
from kami.security.identity import Identity
from kami.security.tokens import TokenSigner
from kami.store.namespace import Store

__all__ = ["LOGIN_FAILURES", "LOGIN_RATE_PER_ADDRESS", "LoginService"]

log = structlog.get_logger("kami.accounts.logins")

LOGIN_FAILURES = (10, 15 * 60.0)  # failed logins per account and address, seconds
LOGIN_RATE_PER_ADDRESS = RateLimit(30, per="minute")  # the login route's own (anonymous callers: by address)


class LoginService:
    def __init__(
        self,
        session: AsyncSession,
        store: Store,
        signer: TokenSigner,
        sessions: LoginSessions,
        roles: RoleService,
        audit: AuditTrail,
        refresh_grace: float = 0.0,
    ) -> None:
        self.accounts = AccountRepository(session=session)
        self.store = store
        self.signer = signer
        self.sessions = sessions
        self.roles = roles
        self.audit = audit
        self.refresh_grace = refresh_grace  # seconds a replaced refresh token still gets its answer

    async def login(self, data: LoginIn, address: str, user_agent: str) -> Tokens:
        """A new session and its tokens for the right password; a business failure (HTTP 200, 1001)
        otherwise. After ``LOGIN_FAILURES`` failed attempts at one account from one address, that
        address is refused (429) for that account until the window lets go; a success clears the count."""
        email = canonical(data.email)  # the lockout counts per person, however the address is spelled
        limiter = FailureLimiter(self.store, "login", *LOGIN_FAILURES)
        await limiter.check(email, address)
        account = await self.accounts.get_one_or_none(email_key=email)
        if not await verify_password(account.password_hash if account else None, data.password) or (
            account is None
        ):
            await limiter.failed(email, address)
            await self.audit.record("login.failed", email)
            raise BusinessError(code=Codes.LOGIN_FAILED, message="Wrong email or password")
        await limiter.succeeded(email, address)
        if account.status != ACTIVE:
            refused = {"status": account.status}
            await self.audit.record("login.refused", str(account.id), refused, actor=str(account.id))
            raise PermissionDeniedError(code=Codes.ACCOUNT_DISABLED)
        record = await self.sessions.open(await self._identity(account), address, user_agent)
        await self.audit.record(
            "login.succeeded", str(account.id), {"session": record.id}, actor=str(account.id)
        )
        return self._tokens(record)

    async def refresh(self, refresh_token: str) -> Tokens:
        """New tokens in the same session for its current refresh token, which the new one replaces.
        The replaced one presented again within the grace (two tabs refreshing at once) gets the same
        new tokens; after it, only a copy can be presented: the whole session ends (401 / 1006). A
        session past its absolute lifetime ends too (401 / 1005)."""
        claims = self.signer.verify(refresh_token, expected="refresh")
        for _ in range(3):  # another refresh of this session may change the record under us
            record = await self.sessions.find(claims.sid)
            if record is None or record.user_id != claims.sub:
                raise AuthenticationError(code=Codes.SESSION_ENDED)
            if claims.jti == record.refresh_jti:
                rotated = await self.sessions.rotate(record)
                if rotated is not None:
                    return self._tokens(rotated)
                if await self.sessions.find(claims.sid) == record:  # unchanged: past its lifetime
                    raise AuthenticationError(code=Codes.SESSION_ENDED)
                continue
            if claims.jti == record.previous_jti and time.time() - record.rotated_at <= self.refresh_grace:
                return self._tokens(record)
            break
        await self.sessions.revoke(claims.sub, claims.sid)
        log.warning("refresh token reused: session revoked", user_id=claims.sub, session_id=claims.sid)
        await self.audit.record("session.reuse-detected", claims.sub, {"session": claims.sid})
        raise AuthenticationError(code=Codes.REFRESH_TOKEN_REUSED)

    async def confirm(self, identity: Identity, password: str) -> None:
        """The password given again in this session: what needs a recent sign-in is allowed for
        ``KAMI_SECURITY_REAUTHENTICATE_SECONDS`` from now. A wrong one is a failed login (counted)."""
        account = await self.accounts.get_one_or_none(id=UUID(identity.user_id))
        record = await self.sessions.find(identity.session_id)
        limiter = FailureLimiter(self.store, "login", *LOGIN_FAILURES)
        subject = account.email_key if account else identity.user_id
        await limiter.check(subject, "confirm")
        if account is None or record is None or not await verify_password(account.password_hash, password):
            await limiter.failed(subject, "confirm")
            await self.audit.record("reauthentication.failed", identity.user_id)
            raise PermissionDeniedError("The password is not right")
        await self.sessions.reauthenticated(record)
        await self.audit.record("reauthenticated", identity.user_id, {"session": record.id})

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

    def _tokens(self, record: SessionRecord) -> Tokens:
        """The pair for the session's current refresh token: the same bytes for the same rotation."""
        user_id, session_id, issued = record.user_id, record.id, record.rotated_at
        access, _ = self.signer.issue(
            user_id, session_id, "access", jti=record.refresh_jti + "a", issued_at=issued
        )
        refresh, _ = self.signer.issue(
            user_id, session_id, "refresh", jti=record.refresh_jti, issued_at=issued
        )
        return Tokens(
            access_token=access,
            refresh_token=refresh,
            token_type="Bearer",
            expires_in=self.signer.ttl["access"],
        )

    async def _identity(self, account: Account) -> Identity:
        return Identity(
            str(account.id), account.role, account.tier, await self.roles.permissions_of(account.role)
        )


def _time(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
