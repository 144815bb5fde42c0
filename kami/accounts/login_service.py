"""Logging in and out: sessions and their tokens, refresh with reuse detection, the session list."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kami.accounts.models import ACTIVE, Account
from kami.accounts.passwords import verify_password
from kami.accounts.repositories import AccountRepository
from kami.accounts.role_service import RoleService
from kami.accounts.schemas import LoginIn, SessionOut, Tokens
from kami.accounts.sessions import LoginSessions
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
    ) -> None:
        self.accounts = AccountRepository(session=session)
        self.store = store
        self.signer = signer
        self.sessions = sessions
        self.roles = roles
        self.audit = audit

    async def login(self, data: LoginIn, address: str, user_agent: str) -> Tokens:
        """A new session and its tokens for the right password; a business failure (HTTP 200, 1001)
        otherwise. After ``LOGIN_FAILURES`` failed attempts at one account from one address, that
        address is refused (429) for that account until the window lets go; a success clears the count."""
        limiter = FailureLimiter(self.store, "login", *LOGIN_FAILURES)
        await limiter.check(data.email, address)
        account = await self.accounts.get_one_or_none(email=data.email.lower())
        if not await verify_password(account.password_hash if account else None, data.password) or (
            account is None
        ):
            await limiter.failed(data.email, address)
            await self.audit.record("login.failed", data.email.lower())
            raise BusinessError(code=Codes.LOGIN_FAILED, message="Wrong email or password")
        await limiter.succeeded(data.email, address)
        if account.status != ACTIVE:
            refused = {"status": account.status}
            await self.audit.record("login.refused", str(account.id), refused, actor=str(account.id))
            raise PermissionDeniedError(code=Codes.ACCOUNT_DISABLED)
        record = await self.sessions.open(await self._identity(account), address, user_agent)
        await self.audit.record(
            "login.succeeded", str(account.id), {"session": record.id}, actor=str(account.id)
        )
        return self._tokens(str(account.id), record.id)

    async def refresh(self, refresh_token: str) -> Tokens:
        """New tokens in the same session for a refresh token, which is then spent. Presenting a spent
        one again means it was copied: the whole session ends (401 / 1006)."""
        claims = self.signer.verify(refresh_token, expected="refresh")
        spent = self.store.key("refresh-spent", claims.jti)
        if not await self.store.backend.set(
            spent, b"1", ttl=float(self.signer.ttl["refresh"]), only_if_absent=True
        ):
            await self.sessions.revoke(claims.sub, claims.sid)
            log.warning("refresh token reused: session revoked", user_id=claims.sub, session_id=claims.sid)
            await self.audit.record("session.reuse-detected", claims.sub, {"session": claims.sid})
            raise AuthenticationError(code=Codes.REFRESH_TOKEN_REUSED)
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
        access, _ = self.signer.issue(user_id, session_id, "access")
        refresh, _ = self.signer.issue(user_id, session_id, "refresh")
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
