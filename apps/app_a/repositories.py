"""App A's data access."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from sqlalchemy import update

from apps.app_a.models import Order, OrderLine, User
from kami.data import Repository

__all__ = ["OrderLineRepository", "OrderRepository", "UserRepository"]


class UserRepository(Repository[User]):
    model_type = User

    async def debit(self, user_id: UUID, amount: Decimal) -> bool:
        """Atomically take ``amount`` if the balance covers it; False when it does not."""
        result = await self.session.execute(
            update(User)
            .where(User.id == user_id, User.balance >= amount)
            .values(balance=User.balance - amount)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def credit(self, user_id: UUID, amount: Decimal) -> bool:
        result = await self.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(balance=User.balance + amount)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class OrderRepository(Repository[Order]):
    model_type = Order

    async def mark_cancelled(self, order_id: UUID) -> bool:
        """Placed -> cancelled, once: False when someone cancelled it first."""
        result = await self.session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == "placed")
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class OrderLineRepository(Repository[OrderLine]):
    model_type = OrderLine
