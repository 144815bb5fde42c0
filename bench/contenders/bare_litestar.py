"""Bare Litestar: kami's benchmark endpoints written the way a Litestar user writes them with no platform.

    granian --interface asgi --workers 2 bench.contenders.bare_litestar:app

Litestar + msgspec, the same envelope shape, the same queries through SQLAlchemy Core on one async
engine (asyncmy, a fixed pool), redis-py for the cached reads, PyJWT for the order's bearer token.
No logging, metrics, tracing, rate limits, idempotency or problem mapping: the difference between this
and kami, in server CPU per request, is what kami's platform costs over the framework it is built on.

Configured by BENCH_DATABASE_URL (SQLAlchemy URL), BENCH_REDIS_URL, BENCH_SECRET_KEY and
BENCH_POOL_SIZE. The tables are kami's own model classes' tables, so both read and write the same rows,
and a product is answered with App B's own msgspec struct.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import jwt
import msgspec
from litestar import Litestar, Response, get, post
from litestar.params import FromHeader, FromPath, FromQuery, JSONBody
from redis.asyncio import Redis
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from apps.app_a.models import Order, OrderLine, User
from apps.app_b.models import Product
from apps.app_b.schemas import ProductOut  # the same answer shape: a plain msgspec struct

PRODUCTS = Product.__table__
USERS = User.__table__
ORDERS = Order.__table__
LINES = OrderLine.__table__
SECRET = os.environ.get("BENCH_SECRET_KEY", "")
STATE: dict[str, Any] = {}


class Envelope(msgspec.Struct):
    data: Any
    code: int = 0
    message: str = "Success"
    trace_id: str = ""
    timestamp: str = ""


class OrderItem(msgspec.Struct):
    product_id: UUID
    quantity: Annotated[int, msgspec.Meta(gt=0, le=1000)]


class OrderIn(msgspec.Struct):
    items: Annotated[list[OrderItem], msgspec.Meta(min_length=1, max_length=50)]


def envelope(data: Any, message: str = "Success", code: int = 0, status: int = 200) -> Response[Envelope]:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body = Envelope(data=data, code=code, message=message, trace_id=uuid.uuid4().hex, timestamp=now)
    return Response(body, status_code=status)


def engine() -> AsyncEngine:
    return STATE["engine"]  # type: ignore[no-any-return]


def redis() -> Redis:
    return STATE["redis"]  # type: ignore[no-any-return]


def product_out(row: Any) -> ProductOut:
    return ProductOut(
        row.id, row.name, row.price, row.description, row.stock, row.version, row.created_at, row.updated_at
    )


PRODUCT_COLUMNS = [
    PRODUCTS.c[name]
    for name in ("id", "name", "price", "description", "stock", "version", "created_at", "updated_at")
]


@get("/health/live")
async def live() -> Response[Envelope]:
    return envelope({"status": "alive"})


@get("/app-b/v1/inventory/{product_id:uuid}")
async def inventory(product_id: FromPath[UUID]) -> Response[Envelope]:
    query = select(PRODUCTS.c.id, PRODUCTS.c.stock, PRODUCTS.c.version).where(PRODUCTS.c.id == product_id)
    async with engine().connect() as connection:
        row = (await connection.execute(query)).first()
    if row is None:
        return envelope(None, "Product not found", 4001, 404)
    return envelope({"product_id": row.id, "quantity": row.stock, "version": row.version})


@get("/app-b/v1/products/{product_id:uuid}")
async def product(product_id: FromPath[UUID]) -> Response[Envelope]:
    key = f"bare:product:{product_id}"
    cached = await redis().get(key)
    if cached is not None:
        return envelope(msgspec.json.decode(cached, type=ProductOut))
    async with engine().connect() as connection:
        row = (await connection.execute(select(*PRODUCT_COLUMNS).where(PRODUCTS.c.id == product_id))).first()
    if row is None:
        return envelope(None, "Product not found", 4001, 404)
    out = product_out(row)
    await redis().set(key, msgspec.json.encode(out), ex=60)
    return envelope(out)


@get("/app-b/v1/products")
async def products(page: FromQuery[int] = 1, page_size: FromQuery[int] = 20) -> Response[Envelope]:
    if not (1 <= page_size <= 100) or page < 1:
        return envelope(None, "Invalid paging", 3001, 422)
    key = f"bare:list:{page}:{page_size}"
    cached = await redis().get(key)
    if cached is not None:
        return envelope(msgspec.json.decode(cached))
    query = (
        select(*PRODUCT_COLUMNS)
        .order_by(PRODUCTS.c.created_at.desc(), PRODUCTS.c.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    async with engine().connect() as connection:
        rows = (await connection.execute(query)).all()
        total = int((await connection.scalar(select(func.count()).select_from(PRODUCTS))) or 0)
    out = {
        "items": [product_out(row) for row in rows],
        "total": total,
        "page": page,
        "page_size": page_size,
        "pages": (total + page_size - 1) // page_size,
    }
    await redis().set(key, msgspec.json.encode(out), ex=60)
    return envelope(out)


@post("/app-a/v1/orders")
async def place_order(data: JSONBody[OrderIn], authorization: FromHeader[str] = "") -> Response[Envelope]:
    try:
        claims = jwt.decode(
            authorization.removeprefix("Bearer "),
            SECRET,
            algorithms=["HS256"],
            audience="kami",
            issuer="kami",
        )
    except jwt.PyJWTError:
        return envelope(None, "Not authenticated", 1001, 401)
    buyer = UUID(claims["sub"])
    ids = [item.product_id for item in data.items]
    async with engine().begin() as connection:
        for item in sorted(data.items, key=lambda i: i.product_id):
            taken = await connection.execute(
                update(PRODUCTS)
                .where(PRODUCTS.c.id == item.product_id, PRODUCTS.c.stock >= item.quantity)
                .values(stock=PRODUCTS.c.stock - item.quantity)
            )
            if not taken.rowcount:
                await connection.rollback()
                return envelope(None, "Insufficient stock", 10002, 409)
        prices = dict(
            (
                await connection.execute(
                    select(PRODUCTS.c.id, PRODUCTS.c.price).where(PRODUCTS.c.id.in_(ids))
                )
            ).all()
        )
        total = sum((prices[i.product_id] * i.quantity for i in data.items), Decimal(0))
        debited = await connection.execute(
            update(USERS)
            .where(USERS.c.id == buyer, USERS.c.balance >= total)
            .values(balance=USERS.c.balance - total)
        )
        if not debited.rowcount:
            await connection.rollback()
            return envelope(None, "Insufficient balance", 10003, 402)
        order_id = uuid.uuid4()
        await connection.execute(
            insert(ORDERS).values(id=order_id, user_id=buyer, status="placed", total=total)
        )
        lines = [
            {
                "order_id": order_id,
                "product_id": i.product_id,
                "quantity": i.quantity,
                "unit_price": prices[i.product_id],
            }
            for i in data.items
        ]
        await connection.execute(insert(LINES), lines)
    await redis().delete(*(f"bare:product:{i}" for i in ids))
    out = {"id": order_id, "status": "placed", "total": total, "items": lines}
    return envelope(out, "Created", status=201)


@asynccontextmanager
async def lifespan(_: Litestar) -> AsyncIterator[None]:
    size = int(os.environ.get("BENCH_POOL_SIZE", "20"))
    STATE["engine"] = create_async_engine(os.environ["BENCH_DATABASE_URL"], pool_size=size, max_overflow=0)
    STATE["redis"] = Redis.from_url(os.environ["BENCH_REDIS_URL"])
    try:
        yield
    finally:
        await STATE["engine"].dispose()
        await STATE["redis"].aclose()


app = Litestar([live, inventory, product, products, place_order], lifespan=[lifespan])
