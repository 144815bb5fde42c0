"""A database made by the revisions before identity moved to the platform upgrades in place, on every
backend: accounts, roles, balances, orders, API keys, idempotency records and the audit trail survive
(its chain still verifies), the old passwords still log in, and the downgrade gives the balances back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import anyio
import pytest
import sqlalchemy as sa
from advanced_alchemy.types import GUID
from litestar.testing import TestClient
from sqlalchemy.ext.asyncio import create_async_engine

from kami.accounts.passwords import hash_password
from kami.db.audit import AuditContext, AuditTrail, verify_chain
from kami.db.config import build_sqlalchemy_config, normalise_url
from kami.db.migrations import downgrade, upgrade
from kami.db.types import PreciseDateTimeUTC
from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.support.backends import drop_everything, reset_schema

BEFORE = "c82df7206625"  # the head while accounts were App A's
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RICH, POOR, ROLE, ORDER, PRODUCT = (uuid.uuid4() for _ in range(5))


def _stamps() -> tuple[sa.ColumnClause[Any], ...]:
    return (
        sa.column("created_at", PreciseDateTimeUTC(timezone=True)),
        sa.column("updated_at", PreciseDateTimeUTC(timezone=True)),
    )


USERS = sa.table(
    "app_a_user",
    sa.column("id", GUID()),
    sa.column("email"),
    sa.column("username"),
    sa.column("password_hash"),
    sa.column("role"),
    sa.column("tier"),
    sa.column("balance", sa.Numeric(14, 2)),
    sa.column("status"),
    sa.column("email_verified", sa.Boolean()),
    *_stamps(),
)
ROLES = sa.table(
    "app_a_role",
    sa.column("id", GUID()),
    sa.column("name"),
    sa.column("description"),
    sa.column("permissions", sa.JSON()),
    *_stamps(),
)
PRODUCTS = sa.table(
    "app_b_product",
    sa.column("id", GUID()),
    sa.column("name"),
    sa.column("price", sa.Numeric(12, 2)),
    sa.column("stock"),
    sa.column("version"),
    *_stamps(),
)
ORDERS = sa.table(
    "app_a_order",
    sa.column("id", GUID()),
    sa.column("user_id", GUID()),
    sa.column("status"),
    sa.column("total", sa.Numeric(14, 2)),
    *_stamps(),
)
LINES = sa.table(
    "app_a_order_line",
    sa.column("id", GUID()),
    sa.column("order_id", GUID()),
    sa.column("product_id", GUID()),
    sa.column("quantity"),
    sa.column("unit_price", sa.Numeric(12, 2)),
    *_stamps(),
)
KEYS = sa.table(
    "kami_api_key",
    sa.column("id"),
    sa.column("user_id"),
    sa.column("name"),
    sa.column("permissions", sa.JSON()),
    sa.column("tier"),
    sa.column("secret_hash"),
    sa.column("created_at", PreciseDateTimeUTC(timezone=True)),
)
RECORDS = sa.table(
    "kami_idempotency_record",
    sa.column("key_hash"),
    sa.column("app"),
    sa.column("fingerprint"),
    sa.column("status"),
    sa.column("answer", sa.LargeBinary()),
    sa.column("created_at"),
    sa.column("expires_at"),
)


async def _fill(settings: Settings) -> None:
    stamps = {"created_at": NOW, "updated_at": NOW}
    password = await hash_password("the old password")
    engine = create_async_engine(normalise_url(settings.database_url))
    try:
        async with engine.begin() as connection:
            for user, name, balance, role in (
                (RICH, "rich", "12.50", "user"),
                (POOR, "poor", "0", "support"),
            ):
                await connection.execute(
                    sa.insert(USERS).values(
                        id=user,
                        email=f"{name}@example.com",
                        username=name,
                        password_hash=password,
                        role=role,
                        tier="premium" if name == "rich" else "free",
                        balance=Decimal(balance),
                        status="active",
                        email_verified=name == "rich",
                        **stamps,
                    )
                )
            await connection.execute(
                sa.insert(ROLES).values(
                    id=ROLE,
                    name="support",
                    description="Answers",
                    permissions=["app-a:accounts.read", "app-b:stock.write"],
                    **stamps,
                )
            )
            await connection.execute(
                sa.insert(PRODUCTS).values(
                    id=PRODUCT, name="Lamp", price=Decimal("24.90"), stock=3, version=1, **stamps
                )
            )
            await connection.execute(
                sa.insert(ORDERS).values(
                    id=ORDER, user_id=RICH, status="placed", total=Decimal("24.90"), **stamps
                )
            )
            await connection.execute(
                sa.insert(LINES).values(
                    id=uuid.uuid4(),
                    order_id=ORDER,
                    product_id=PRODUCT,
                    quantity=1,
                    unit_price=Decimal("24.90"),
                    **stamps,
                )
            )
            await connection.execute(
                sa.insert(KEYS).values(
                    id="0123456789abcdef",
                    user_id=str(RICH),
                    name="export",
                    permissions=["app-a:accounts.credit"],
                    tier="premium",
                    secret_hash="0" * 64,
                    created_at=NOW,
                )
            )
            await connection.execute(
                sa.insert(RECORDS).values(
                    key_hash="a" * 64,
                    app="app-a",
                    fingerprint="b" * 64,
                    status=201,
                    answer=b"{}",
                    created_at=1,
                    expires_at=2**40,
                )
            )
    finally:
        await engine.dispose()
    config = build_sqlalchemy_config(settings)
    try:
        async with config.get_session() as session:
            audit = AuditTrail(session, AuditContext(actor=str(RICH)))
            for n in range(5):
                await audit.record("login.succeeded", str(RICH), {"n": n})
    finally:
        await config.get_engine().dispose()


async def _rows(settings: Settings, query: str) -> list[tuple[Any, ...]]:
    engine = create_async_engine(normalise_url(settings.database_url))
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in (await connection.execute(sa.text(query))).all()]
    finally:
        await engine.dispose()


async def _permissions(settings: Settings, table: str) -> list[list[str]]:
    rows = sa.table(table, sa.column("permissions", sa.JSON()))
    engine = create_async_engine(normalise_url(settings.database_url))
    try:
        async with engine.connect() as connection:
            return [
                sorted(found) for (found,) in (await connection.execute(sa.select(rows.c.permissions))).all()
            ]
    finally:
        await engine.dispose()


async def _chain(settings: Settings) -> tuple[bool, int]:
    config = build_sqlalchemy_config(settings)
    try:
        async with config.get_session() as session:
            report = await verify_chain(session)
            return report.intact, report.records
    finally:
        await config.get_engine().dispose()


@pytest.fixture
def before_the_move(migrated: Settings) -> Iterator[Settings]:
    """The backend's database as the older revisions leave it, with data in every table; at head
    again afterwards (the session's other tests share it)."""
    drop_everything(migrated.database_url)
    upgrade(migrated, BEFORE)
    anyio.run(_fill, migrated)
    try:
        yield migrated
    finally:
        reset_schema(migrated)


def test_the_move_keeps_every_record(before_the_move: Settings) -> None:
    settings = before_the_move
    upgrade(settings)
    rows = anyio.run(
        _rows,
        settings,
        "SELECT username, role, tier, status, email_verified FROM kami_account ORDER BY username",
    )
    assert [(u, r, t, s, bool(v)) for u, r, t, s, v in rows] == [
        ("poor", "support", "free", "active", False),
        ("rich", "user", "premium", "active", True),
    ]
    assert anyio.run(_rows, settings, "SELECT name, description FROM kami_role") == [("support", "Answers")]
    # Permissions App A declared before are called as the identity slice and App A call them now.
    assert anyio.run(_permissions, settings, "kami_role") == [["accounts:read", "app-b:stock.write"]]
    assert anyio.run(_permissions, settings, "kami_api_key") == [["app-a:wallets.credit"]]
    wallets = anyio.run(_rows, settings, "SELECT balance FROM app_a_wallet")
    assert [Decimal(str(balance)) for (balance,) in wallets] == [
        Decimal("12.50")
    ]  # a zero balance is no wallet
    assert anyio.run(
        _rows, settings, "SELECT COUNT(*) FROM app_a_order o JOIN kami_account a ON a.id = o.user_id"
    ) == [(1,)]
    assert anyio.run(_rows, settings, "SELECT COUNT(*) FROM app_a_order_line") == [(1,)]
    assert anyio.run(_rows, settings, "SELECT name, user_id FROM kami_api_key") == [("export", str(RICH))]
    assert anyio.run(_rows, settings, "SELECT status FROM kami_idempotency_record") == [(201,)]
    assert anyio.run(_chain, settings) == (True, 5)

    with TestClient(create_app(settings)) as client:
        login = client.post(
            "/accounts/v1/auth/login", json={"email": "rich@example.com", "password": "the old password"}
        )
        assert login.json()["code"] == 0, login.text
        me = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        assert client.get("/app-a/v1/wallet", headers=me).json()["data"]["balance"] == "12.50"
        orders = client.get("/app-a/v1/orders", headers=me).json()["data"]
        assert [(o["id"], o["total"]) for o in orders["items"]] == [(str(ORDER), "24.90")]

    downgrade(settings, BEFORE)
    back = anyio.run(_rows, settings, "SELECT username, balance FROM app_a_user ORDER BY username")
    assert anyio.run(_permissions, settings, "app_a_role") == [["app-a:accounts.read", "app-b:stock.write"]]
    assert anyio.run(_permissions, settings, "kami_api_key") == [["app-a:accounts.credit"]]
    assert [(name, Decimal(str(balance))) for name, balance in back] == [
        ("poor", Decimal(0)),
        ("rich", Decimal("12.50")),
    ]
