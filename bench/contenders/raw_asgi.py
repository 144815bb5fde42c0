"""The ceiling: a bare ASGI app (no framework) answering kami's benchmark endpoints with the same bytes.

    granian --interface asgi --workers 2 bench.contenders.raw_asgi:app

Configured by BENCH_DATABASE_URL (mysql://user:pass@host:port/db) and BENCH_REDIS_URL. Reads go
straight through an asyncmy pool (autocommit, one query) and redis-py; the envelope is assembled
from bytes. Nothing here validates, logs, traces or limits: it is the physical limit of a Python
ASGI server on this machine, not a design anyone should ship.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncmy
import msgspec
from redis.asyncio import Redis

STATE: dict[str, Any] = {}
COLUMNS = "id, name, price, description, stock, version, created_at, updated_at"
LIST_QUERY = f"SELECT {COLUMNS} FROM app_b_product ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s"
PRODUCT_QUERY = f"SELECT {COLUMNS} FROM app_b_product WHERE id = %s"
JSON_HEADERS = [(b"content-type", b"application/json")]


def _timestamp(value: datetime) -> str:
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _envelope(data: bytes, status: int = 200) -> tuple[int, bytes]:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body = (
        b'{"code":0,"message":"Success","data":'
        + data
        + b',"trace_id":"'
        + uuid.uuid4().hex.encode()
        + b'","timestamp":"'
        + now.encode()
        + b'"}'
    )
    return status, body


def _product(row: tuple[Any, ...]) -> dict[str, Any]:
    pid, name, price, description, stock, version, created, updated = row
    return {
        "id": str(uuid.UUID(bytes=pid)),
        "name": name,
        "price": str(price),
        "description": description,
        "stock": stock,
        "version": version,
        "created_at": _timestamp(created),
        "updated_at": _timestamp(updated),
    }


async def _query(sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    async with STATE["pool"].acquire() as connection, connection.cursor() as cursor:
        await cursor.execute(sql, args)
        return list(await cursor.fetchall())


async def _product_by_id(product_id: str) -> bytes | None:
    rows = await _query(PRODUCT_QUERY, (uuid.UUID(product_id).bytes,))
    return msgspec.json.encode(_product(rows[0])) if rows else None


async def _cached(key: str, compute: Any) -> bytes | None:
    redis: Redis = STATE["redis"]
    value = await redis.get(key)
    if value is None:
        value = await compute()
        if value is not None:
            await redis.set(key, value, ex=60)
    return value  # type: ignore[no-any-return]


async def _route(method: str, path: str, query: bytes) -> tuple[int, bytes]:
    if path == "/health/live":
        return _envelope(b'{"status":"alive"}')
    if method == "GET" and path.startswith("/app-b/v1/inventory/"):
        product_id = path.rsplit("/", 1)[1]
        rows = await _query(
            "SELECT id, stock, version FROM app_b_product WHERE id = %s", (uuid.UUID(product_id).bytes,)
        )
        if not rows:
            return 404, b'{"code":4001,"message":"Not found","data":null}'
        pid, stock, version = rows[0]
        data = {"product_id": str(uuid.UUID(bytes=pid)), "quantity": stock, "version": version}
        return _envelope(msgspec.json.encode(data))
    if method == "GET" and path.startswith("/app-b/v1/products/"):
        product_id = path.rsplit("/", 1)[1]
        found = await _cached(f"raw:product:{product_id}", lambda: _product_by_id(product_id))
        return _envelope(found) if found is not None else (404, b'{"code":4001}')
    if method == "GET" and path == "/app-b/v1/products":
        params = parse_qs(query.decode())
        page, size = int(params.get("page", ["1"])[0]), int(params.get("page_size", ["20"])[0])

        async def compute() -> bytes:
            rows = await _query(LIST_QUERY, (size, (page - 1) * size))
            total = (await _query("SELECT COUNT(*) FROM app_b_product", ()))[0][0]
            items = [_product(row) for row in rows]
            pages = (total + size - 1) // size
            return msgspec.json.encode(
                {"items": items, "total": total, "page": page, "page_size": size, "pages": pages}
            )

        return _envelope(await _cached(f"raw:list:{query.decode()}", compute) or b"null")
    return 404, b'{"code":4004,"message":"Not found","data":null}'


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            url = urlsplit(os.environ["BENCH_DATABASE_URL"])
            STATE["pool"] = await asyncmy.create_pool(
                host=url.hostname,
                port=url.port or 3306,
                user=url.username,
                password=url.password or "",
                db=url.path.lstrip("/"),
                minsize=1,
                maxsize=20,
                autocommit=True,
            )
            STATE["redis"] = Redis.from_url(os.environ["BENCH_REDIS_URL"])
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            STATE["pool"].close()
            await STATE["pool"].wait_closed()
            await STATE["redis"].aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    status, body = await _route(scope["method"], scope["path"], scope.get("query_string", b""))
    await send({"type": "http.response.start", "status": status, "headers": JSON_HEADERS})
    await send({"type": "http.response.body", "body": body})
