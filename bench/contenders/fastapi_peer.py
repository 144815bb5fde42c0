"""The peer: the design kami replaces — FastAPI + pydantic 2 + SQLAlchemy async (asyncmy) + redis-py,
served by Gunicorn with Uvicorn workers, implementing kami's benchmark endpoints with the same
envelope, trace id, JSON access log, Prometheus metrics and OpenTelemetry tracing switched on.

    gunicorn -w 2 -k uvicorn.workers.UvicornWorker bench.contenders.fastapi_peer:app

Configured by BENCH_DATABASE_URL (SQLAlchemy URL), BENCH_REDIS_URL, BENCH_SECRET_KEY (the same
HS256 tokens kami issues), BENCH_OTLP_ENDPOINT and BENCH_SAMPLING_RATIO. It maps the same tables
through kami's model classes (plain SQLAlchemy declarative models) so both read and write the same rows.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import jwt
from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from prometheus_client import Counter, Histogram
from pydantic import BaseModel, Field
from redis.asyncio import Redis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from apps.app_a.models import Order, OrderLine, User
from apps.app_b.models import Product

# --- telemetry, logging, metrics ------------------------------------------------------------------

provider = TracerProvider(
    resource=Resource.create({"service.name": "fastapi-peer"}),
    sampler=ParentBased(TraceIdRatioBased(float(os.environ.get("BENCH_SAMPLING_RATIO", "0.1")))),
)
if os.environ.get("BENCH_OTLP_ENDPOINT"):
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=os.environ["BENCH_OTLP_ENDPOINT"], insecure=True))
    )
trace.set_tracer_provider(provider)

access = logging.getLogger("peer.access")
access.addHandler(logging.StreamHandler(sys.stdout))
access.setLevel(logging.INFO)
access.propagate = False

REQUESTS = Counter("http_requests_total", "Requests", ["method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "Latency", ["method", "route"])

# --- data -----------------------------------------------------------------------------------------

POOL = int(os.environ.get("BENCH_POOL_SIZE", "10"))
engine = create_async_engine(
    os.environ.get("BENCH_DATABASE_URL", "sqlite+aiosqlite://"),
    pool_size=POOL,
    max_overflow=POOL,
    pool_pre_ping=True,
)
sessions = async_sessionmaker(engine, expire_on_commit=False)
redis = Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
SECRET = os.environ.get("BENCH_SECRET_KEY", "")
SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine)
RedisInstrumentor().instrument()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]

# --- schemas and envelope -------------------------------------------------------------------------


class Envelope(BaseModel):
    code: int = 0
    message: str = "Success"
    data: Any = None
    trace_id: str
    timestamp: datetime


class ProductOut(BaseModel):
    id: UUID
    name: str
    price: Decimal
    description: str | None
    stock: int
    version: int
    created_at: datetime
    updated_at: datetime


class InventoryOut(BaseModel):
    product_id: UUID
    quantity: int
    version: int


class ProductPage(BaseModel):
    items: list[ProductOut]
    total: int
    page: int
    page_size: int
    pages: int


class OrderItem(BaseModel):
    product_id: UUID
    quantity: int = Field(gt=0, le=1000)


class OrderIn(BaseModel):
    items: list[OrderItem] = Field(min_length=1, max_length=50)


class OrderLineOut(BaseModel):
    product_id: UUID
    quantity: int
    unit_price: Decimal


class OrderOut(BaseModel):
    id: UUID
    status: str
    total: Decimal
    items: list[OrderLineOut]


def trace_id() -> str:
    return format(trace.get_current_span().get_span_context().trace_id, "032x")


def envelope(data: Any, message: str = "Success") -> Envelope:
    return Envelope(data=data, message=message, trace_id=trace_id(), timestamp=datetime.now(UTC))


def failure(status: int, code: int, message: str) -> JSONResponse:
    body = Envelope(code=code, message=message, trace_id=trace_id(), timestamp=datetime.now(UTC))
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


# --- app ------------------------------------------------------------------------------------------


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield
    await engine.dispose()
    await redis.aclose()
    provider.shutdown()


app = FastAPI(lifespan=lifespan)


@app.middleware("http")
async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    elapsed = time.perf_counter() - started
    route = getattr(request.scope.get("route"), "path", "unmatched")
    REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    LATENCY.labels(request.method, route).observe(elapsed)
    response.headers["X-Trace-Id"] = trace_id()
    access.info(
        json.dumps(
            {
                "event": "request",
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
                "trace_id": trace_id(),
                "timestamp": datetime.now(UTC).isoformat(),
            }
        )
    )
    return response


@app.get("/health/live")
async def live() -> Envelope:
    return envelope({"status": "alive"})


@app.get("/app-b/v1/inventory/{product_id}", response_model=Envelope)
async def inventory(product_id: UUID, session: Session) -> Any:
    product = await session.get(Product, product_id)
    if product is None:
        return failure(404, 4001, "Product not found")
    return envelope(InventoryOut(product_id=product.id, quantity=product.stock, version=product.version))


@app.get("/app-b/v1/products/{product_id}", response_model=Envelope)
async def product(product_id: UUID, session: Session) -> Any:
    key = f"peer:product:{product_id}"
    cached = await redis.get(key)
    if cached is not None:
        return envelope(ProductOut.model_validate_json(cached))
    found = await session.get(Product, product_id)
    if found is None:
        return failure(404, 4001, "Product not found")
    out = ProductOut.model_validate(found, from_attributes=True)
    await redis.set(key, out.model_dump_json(), ex=60)
    return envelope(out)


@app.get("/app-b/v1/products", response_model=Envelope)
async def products(session: Session, page: int = 1, page_size: int = 20) -> Any:
    if not (1 <= page_size <= 100) or page < 1:
        return failure(422, 3001, "Invalid paging")
    key = f"peer:list:{page}:{page_size}"
    cached = await redis.get(key)
    if cached is not None:
        return envelope(ProductPage.model_validate_json(cached))
    rows = (
        await session.scalars(
            select(Product)
            .order_by(Product.created_at.desc(), Product.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    ).all()
    total = int((await session.scalar(select(func.count()).select_from(Product))) or 0)
    out = ProductPage(
        items=[ProductOut.model_validate(p, from_attributes=True) for p in rows],
        total=total,
        page=page,
        page_size=page_size,
        pages=(total + page_size - 1) // page_size,
    )
    await redis.set(key, out.model_dump_json(), ex=60)
    return envelope(out)


@app.post("/app-a/v1/orders", response_model=Envelope, status_code=201)
async def place_order(data: OrderIn, session: Session, authorization: Annotated[str, Header()] = "") -> Any:
    try:
        claims = jwt.decode(
            authorization.removeprefix("Bearer "),
            SECRET,
            algorithms=["HS256"],
            audience="kami",
            issuer="kami",
        )
    except jwt.PyJWTError:
        return failure(401, 1001, "Not authenticated")
    buyer = UUID(claims["sub"])
    async with session.begin():
        for item in sorted(data.items, key=lambda i: i.product_id):
            taken = await session.execute(
                update(Product)
                .where(Product.id == item.product_id, Product.stock >= item.quantity)
                .values(stock=Product.stock - item.quantity)
                .execution_options(synchronize_session=False)
            )
            if not taken.rowcount:  # type: ignore[attr-defined]
                await session.rollback()
                return failure(409, 10002, "Insufficient stock")
        prices = dict(
            (
                await session.execute(
                    select(Product.id, Product.price).where(
                        Product.id.in_([i.product_id for i in data.items])
                    )
                )
            ).all()
        )
        total = sum((prices[i.product_id] * i.quantity for i in data.items), Decimal(0))
        debited = await session.execute(
            update(User)
            .where(User.id == buyer, User.balance >= total)
            .values(balance=User.balance - total)
            .execution_options(synchronize_session=False)
        )
        if not debited.rowcount:  # type: ignore[attr-defined]
            await session.rollback()
            return failure(402, 10003, "Insufficient balance")
        order = Order(user_id=buyer, status="placed", total=total)
        session.add(order)
        await session.flush()
        lines = [
            OrderLine(
                order_id=order.id,
                product_id=i.product_id,
                quantity=i.quantity,
                unit_price=prices[i.product_id],
            )
            for i in data.items
        ]
        session.add_all(lines)
    await redis.delete(*(f"peer:product:{i.product_id}" for i in data.items))
    out = OrderOut(
        id=order.id,
        status=order.status,
        total=total,
        items=[
            OrderLineOut(product_id=x.product_id, quantity=x.quantity, unit_price=x.unit_price) for x in lines
        ],
    )
    return JSONResponse(envelope(out, "Created").model_dump(mode="json"), status_code=201)


FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
