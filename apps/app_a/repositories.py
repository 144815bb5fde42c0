"""App A's data access. The balance and status changes are atomic single statements, compiled once:
they run inside order transactions that other orders wait on (see ``Precompiled``)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from sqlalchemy import bindparam, update

from apps.app_a.models import Order, OrderLine, Wallet
from kami.data import Precompiled, Repository

__all__ = ["OrderLineRepository", "OrderRepository", "WalletRepository"]

_DEBIT = Precompiled(
    update(Wallet)
    .where(Wallet.account_id == bindparam("owner"), Wallet.balance >= bindparam("amount"))
    .values(balance=Wallet.balance - bindparam("amount"))
)
_CREDIT = Precompiled(
    update(Wallet)
    .where(Wallet.account_id == bindparam("owner"))
    .values(balance=Wallet.balance + bindparam("amount"))
)
_CANCEL = Precompiled(
    update(Order)
    .where(Order.id == bindparam("order_id"), Order.status == "placed")
    .values(status="cancelled")
)


class WalletRepository(Repository[Wallet]):
    model_type = Wallet

    async def debit(self, account_id: UUID, amount: Decimal) -> bool:
        """Atomically take ``amount`` if the balance covers it; False when it does not (or there is no
        wallet yet)."""
        return await _DEBIT.execute(self.session, {"owner": account_id, "amount": amount}) > 0

    async def credit(self, account_id: UUID, amount: Decimal) -> None:
        """Add ``amount``, making the wallet on its first credit (two first credits at once cannot both
        make it)."""
        if await _CREDIT.execute(self.session, {"owner": account_id, "amount": amount}) == 0:
            await self.add_or_create({"account_id": account_id}, "balance", amount)


class OrderRepository(Repository[Order]):
    model_type = Order

    async def mark_cancelled(self, order_id: UUID) -> bool:
        """Placed -> cancelled, once: False when someone cancelled it first."""
        return await _CANCEL.execute(self.session, {"order_id": order_id}) > 0


class OrderLineRepository(Repository[OrderLine]):
    model_type = OrderLine
