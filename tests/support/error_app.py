"""A small app, mounted only by tests, with one route per error path of the status table."""

from __future__ import annotations

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kami import ApiResponse, AppSpec, BusinessError, NotFoundError, success


class Signup(msgspec.Struct):
    email: str
    age: int = msgspec.field(default=0)


@post("/signup", status_code=201)
async def signup(data: JSONBody[Signup]) -> ApiResponse[Signup]:
    return success(data)


@get("/business")
async def business() -> ApiResponse[None]:
    raise BusinessError("Insufficient balance")


@get("/missing")
async def missing() -> ApiResponse[None]:
    raise NotFoundError("no such widget")


@get("/boom")
async def boom() -> ApiResponse[None]:
    raise RuntimeError("secret internals: password=hunter2")


@get("/db")
async def db(db_session: NamedDependency[AsyncSession]) -> ApiResponse[int]:
    value = (await db_session.execute(text("SELECT 1"))).scalar_one()
    return success(int(value))


def make_spec(name: str = "errors", prefix: str = "/errors", codes: range = range(90000, 90100)) -> AppSpec:
    return AppSpec(
        name=name,
        prefix=prefix,
        code_range=codes,
        route_handlers=[signup, business, missing, boom, db],
    )
