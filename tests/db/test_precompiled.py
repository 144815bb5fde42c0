"""Statements compiled once (``Precompiled``) behave as the same statements through the session, on
every backend: same values, same types, same transaction, same errors, same spans."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import anyio
import pytest
from litestar.testing import TestClient
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from apps.app_a.models import Wallet
from apps.app_a.repositories import WalletRepository
from apps.app_b.models import Product
from apps.app_b.repositories import ProductRepository
from kami.accounts.models import Account
from kami.accounts.repositories import AccountRepository
from kami.data import Precompiled
from kami.db.config import build_sqlalchemy_config
from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.conftest import service_url
from tests.support.backends import reset_schema
from tests.support.databases import mysql_behind_a_proxy, settings_for
from tests.support.otlp import OtlpReceiver, ReceivedSpan
from tests.support.proxy import TcpProxy
from tests.support.tokens import session_headers
from tests.support.waiting import wait_until

RENAME = Precompiled(update(Product).where(Product.id == bindparam("pid")).values(name=bindparam("new_name")))


async def test_reads_and_writes_match_the_session(db_settings: Settings) -> None:
    config = build_sqlalchemy_config(db_settings)
    try:
        async with config.get_session() as session:
            products = ProductRepository(session=session)
            cup = Product(name="Cup", price=Decimal("12.50"), stock=3)
            pot = Product(name="Pot", price=Decimal("0.01"), stock=0)
            await products.insert(cup, pot)
            await session.commit()

            prices = await products.prices([cup.id, pot.id, uuid4()])  # an IN list, expanded per call
            assert prices == {cup.id: Decimal("12.50"), pot.id: Decimal("0.01")}
            assert all(isinstance(value, Decimal) for value in prices.values())
            assert await products.prices([pot.id]) == {pot.id: Decimal("0.01")}  # another length

            await anyio.sleep(0.002)  # updated_at (onupdate, computed in Python per call) must move on
            assert await products.take_stock(cup.id, 2) is True
            assert await products.take_stock(cup.id, 2) is False  # 1 left: nothing taken
            assert await products.take_stock(uuid4(), 1) is False
            await session.commit()
            stored = await products.get(cup.id)
            await session.refresh(stored)
            assert (stored.stock, stored.version) == (1, 2)
            assert stored.updated_at > cup.updated_at

            # Many parameter sets, one call; then a rollback takes them back with the session's work.
            renamed = await RENAME.execute(
                session, [{"pid": cup.id, "new_name": "Mug"}, {"pid": pot.id, "new_name": "Kettle"}]
            )
            counted = config.get_engine().dialect.supports_sane_multi_rowcount  # asyncpg's executemany: -1
            assert renamed == (2 if counted else -1)
            session.add(Product(name="Added through the ORM", price=Decimal(1), stock=1))
            await session.flush()
            names = set((await session.execute(select(Product.name))).scalars())
            assert names == {"Mug", "Kettle", "Added through the ORM"}
            await session.rollback()
            names = set((await session.execute(select(Product.name))).scalars())
            assert names == {"Cup", "Pot"}
    finally:
        await config.get_engine().dispose()


async def test_driver_errors_are_sqlalchemys(db_settings: Settings) -> None:
    """A duplicate is an ``IntegrityError`` (answered 409 by the error handlers) on every driver, and
    the session goes on after the rollback."""
    config = build_sqlalchemy_config(db_settings)
    try:
        async with config.get_session() as session:
            accounts = AccountRepository(session=session)
            same = {"email": "same@example.com", "email_key": "same@example.com", "password_hash": "x"}
            first = Account(**same, username="first", username_key="first")
            await accounts.insert(first)
            await session.commit()
            with pytest.raises(IntegrityError):
                await accounts.insert(Account(**same, username="second", username_key="second"))
            await session.rollback()
            wallets = WalletRepository(session=session)
            assert await wallets.debit(first.id, Decimal("1")) is False  # no wallet yet: nothing to take
            await wallets.credit(first.id, Decimal("2.50"))  # the first credit makes the wallet
            await wallets.credit(first.id, Decimal("0.50"))
            assert await wallets.debit(first.id, Decimal("4")) is False  # not covered: nothing taken
            assert await wallets.debit(first.id, Decimal("2.50")) is True
            await session.commit()
            stored = await wallets.get_one(Wallet.account_id == first.id)
            await session.refresh(stored)
            assert stored.balance == Decimal("0.50")
    finally:
        await config.get_engine().dispose()


def test_a_connection_lost_mid_transaction_is_invalidated(tmp_path: Path) -> None:
    with mysql_behind_a_proxy(tmp_path) as (settings, proxy):
        anyio.run(_write_across_a_cut, settings, proxy)


async def _write_across_a_cut(settings: Settings, proxy: TcpProxy) -> None:
    config = build_sqlalchemy_config(settings)
    try:
        async with config.get_session() as session:
            products = ProductRepository(session=session)
            product = Product(name="survivor", price=Decimal("1.00"), stock=5)
            await products.insert(product)
            await session.commit()
            assert await products.take_stock(product.id, 1) is True  # inside a new transaction
            proxy.cut()
            with pytest.raises(DBAPIError) as lost:
                await products.take_stock(product.id, 1)
            assert lost.value.connection_invalidated
            await session.rollback()
            proxy.restore()
            assert await products.take_stock(product.id, 1) is True  # a new connection
            await session.commit()
            stored = await products.get(product.id)
            await session.refresh(stored)
            assert stored.stock == 4  # the cut transaction's take was never committed
    finally:
        await config.get_engine().dispose()


def test_sampled_orders_show_each_statement_as_a_client_span(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On MySQL the statements bypass SQLAlchemy's execution (and its instrumentation): the spans
    must still be there, under the request's."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
    key = "p" * 40
    trace_id = "5bf92f3577b34da6a3ce929d0e0e4737"
    with OtlpReceiver() as receiver:
        settings = settings_for(
            service_url("mysql"),
            tmp_path,
            KAMI_SECRET_KEY=key,
            KAMI_TELEMETRY_OTLP_ENDPOINT=receiver.endpoint,
        )
        reset_schema(settings)
        with TestClient(create_app(settings)) as client:
            headers = session_headers(client)
            product = client.post(
                "/app-b/v1/products", json={"name": "Traced", "price": "2.00", "stock": 5}, headers=headers
            ).json()["data"]["id"]
            account = client.post(
                "/accounts/v1/users",
                json={"email": "tracer@example.com", "username": "tracer", "password": "correct horse"},
            ).json()["data"]
            client.post(f"/app-a/v1/wallets/{account['id']}/credit", json={"amount": "10"}, headers=headers)
            buyer = session_headers(client, "user", account["id"])["Authorization"].split()[1]
            placed = client.post(
                "/app-a/v1/orders",
                json={"items": [{"product_id": product, "quantity": 2}]},
                headers={
                    "Authorization": f"Bearer {buyer}",
                    "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
                },
            )
            assert placed.json()["code"] == 0, placed.text
        wanted = {"SELECT app_b_product", "UPDATE app_a_wallet", "INSERT app_a_order", "UPDATE app_b_product"}

        def spans() -> dict[str, ReceivedSpan]:
            return {s.name: s for s in receiver.spans if s.trace_id == trace_id}

        assert wait_until(lambda: wanted <= spans().keys()), sorted(spans())
        found = spans()
        for name in wanted:
            span = found[name]
            assert span.attributes["db.system"] == "mysql", name
            assert str(span.attributes["db.statement"]).startswith(name.split()[0]), name
        # All under the service's own span ("place order"), one level below the server span.
        parents = {found[name].parent_span_id for name in wanted}
        server = found["POST /app-a/v1/orders"]
        assert len(parents) == 1
        assert parents != {server.span_id}
