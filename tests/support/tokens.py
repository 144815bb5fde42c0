"""Bearer headers for a real login session: opened with kami's own sessions on the store the server
under test uses, and signed with its key (issuer and audience "kami"). For tests that need a caller
of some role without walking through registration and login each time."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import jwt
import msgspec
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import update

from kami.accounts.canonical import canonical
from kami.accounts.models import Account
from kami.accounts.sessions import LoginSessions
from kami.accounts.slice import ACCOUNTS_APP
from kami.app_spec import import_every_app, permission_catalog
from kami.db.transaction import transaction
from kami.pipeline.runtime import runtime_of
from kami.security.identity import Identity
from kami.security.permissions import PermissionCatalog
from kami.security.tokens import TokenSigner
from kami.store.backend import Backend, RedisBackend
from kami.store.pipelined import PipelinedRedis

__all__ = ["bearer", "confirm_address", "open_session", "session_headers", "sign_in_long_ago", "signer"]


def signer(key: str) -> TokenSigner:
    return TokenSigner(key, issuer="kami", audience="kami")


async def _open(
    backend: Backend,
    token_signer: TokenSigner,
    catalog: PermissionCatalog,
    role: str,
    subject: str | None,
    tier: str,
    permissions: frozenset[str] | None = None,
) -> dict[str, str]:
    if permissions is None:
        permissions = catalog.built_in(role) or frozenset()
    account = Identity(subject or str(uuid.uuid4()), role, tier, permissions)
    record = await LoginSessions(backend, 3600).open(account, "127.0.0.1", "kami tests")
    return {"Authorization": f"Bearer {token_signer.issue(record.user_id, record.id)[0]}"}


async def open_session(
    app: Litestar,
    role: str = "admin",
    subject: str | None = None,
    tier: str = "free",
    permissions: frozenset[str] | None = None,
) -> dict[str, str]:
    """For ``app`` driven in this event loop (an ``AsyncTestClient``'s)."""
    identity = runtime_of(app).identity
    return await _open(
        identity.sessions.backend, identity.signer, identity.catalog, role, subject, tier, permissions
    )


def session_headers(
    client: TestClient[Any],
    role: str = "admin",
    subject: str | None = None,
    tier: str = "free",
    permissions: frozenset[str] | None = None,
) -> dict[str, str]:
    """For the app ``client`` drives in this process (inside its ``with`` block); ``permissions``
    instead of the role's built-in set (a role an admin defined)."""
    return client.blocking_portal.call(open_session, client.app, role, subject, tier, permissions)


def confirm_address(client: TestClient[Any], email: str) -> None:
    """Mark ``email``'s account as having confirmed its address, in the database of the app ``client``
    drives (what the mailed link does; tests/accounts/test_recovery.py follows the real link)."""

    async def run() -> None:
        async with runtime_of(client.app).database.get_session() as session, transaction(session):
            await session.execute(
                update(Account).where(Account.email_key == canonical(email)).values(email_verified=True)
            )

    client.blocking_portal.call(run)


def sign_in_long_ago(client: TestClient[Any], headers: dict[str, str], seconds: float = 86400) -> None:
    """Make the session behind ``headers`` one whose password was given ``seconds`` ago (a stolen
    token, used well after its owner signed in)."""

    async def run() -> None:
        sessions = runtime_of(client.app).identity.sessions
        token = headers["Authorization"].split()[1]
        record = await sessions.find(jwt.decode(token, options={"verify_signature": False})["sid"])
        assert record is not None
        aged = msgspec.structs.replace(record, authenticated_at=record.authenticated_at - seconds)
        assert await sessions._replace(record, aged) is not None

    client.blocking_portal.call(run)


def bearer(
    key: str, redis_url: str, role: str = "admin", subject: str | None = None, tier: str = "free"
) -> dict[str, str]:
    """For a server in another process whose store is the Redis at ``redis_url``."""

    async def run() -> dict[str, str]:
        backend = RedisBackend(PipelinedRedis.from_url(redis_url, timeout=5.0))
        try:
            catalog = permission_catalog([ACCOUNTS_APP, *import_every_app()])
            return await _open(backend, signer(key), catalog, role, subject, tier)
        finally:
            await backend.close()

    return anyio.run(run)
