"""App A's data access. The balance and status changes are atomic single statements, compiled once:
they run inside order transactions that other orders wait on (see ``Precompiled``)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from sqlalchemy import bindparam, update

from apps.app_a.models import Order, OrderLine, Role, User
from kami.data import Precompiled, Repository

__all__ = ["OrderLineRepository", "OrderRepository", "RoleRepository", "UserRepository"]

_DEBIT = Precompiled(
    update(User)
    .where(User.id == bindparam("user_id"), User.balance >= bindparam("amount"))
    .values(balance=User.balance - bindparam("amount"))
)
_CREDIT = Precompiled(
    update(User).where(User.id == bindparam("user_id")).values(balance=User.balance + bindparam("amount"))
)
_CANCEL = Precompiled(
    update(Order)
    .where(Order.id == bindparam("order_id"), Order.status == "placed")
    .values(status="cancelled")
)


class UserRepository(Repository[User]):
    model_type = User

    async def debit(self, user_id: UUID, amount: Decimal) -> bool:
        """Atomically take ``amount`` if the balance covers it; False when it does not."""
        return await _DEBIT.execute(self.session, {"user_id": user_id, "amount": amount}) > 0

    async def credit(self, user_id: UUID, amount: Decimal) -> bool:
        return await _CREDIT.execute(self.session, {"user_id": user_id, "amount": amount}) > 0


class OrderRepository(Repository[Order]):
    model_type = Order

    async def mark_cancelled(self, order_id: UUID) -> bool:
        """Placed -> cancelled, once: False when someone cancelled it first."""
        return await _CANCEL.execute(self.session, {"order_id": order_id}) > 0


class OrderLineRepository(Repository[OrderLine]):
    model_type = OrderLine


class RoleRepository(Repository[Role]):
    model_type = Role
