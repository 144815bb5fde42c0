"""App B's HTTP surface: parse, call the service, wrap in the envelope."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from apps.app_b.jobs import REPORT_KEY, low_stock_report
from apps.app_b.permissions import PRODUCTS_WRITE, REPORTS_RUN, STOCK_WRITE
from apps.app_b.schemas import (
    InventoryOut,
    InventoryUpdate,
    LowStockReport,
    ProductCreate,
    ProductOut,
    ProductUpdate,
    ReportQueued,
)
from apps.app_b.services import LIST_TAG, LIST_TTL, ProductQuery, ProductService, SortKey
from kami import (
    ApiResponse,
    Codes,
    NotFoundError,
    Page,
    ResponseCache,
    decimal_pattern,
    responses,
    route_options,
    success,
    to_decimal,
)
from kami.cache import Store
from kami.data import PageParams
from kami.jobs import Jobs
from kami.security import require

__all__ = ["InventoryController", "ProductController", "ReportController"]


ProductId = Annotated[UUID, Parameter(description="The product's id (UUID).")]
PRICE_FILTER = decimal_pattern(positive=False)  # "0", "12.5": plain decimal notation, at most 2 places


class ProductController(Controller):
    path = "/v1/products"

    @get(
        "/",
        opt=route_options(cache=ResponseCache(ttl=LIST_TTL, tags=(LIST_TAG,))),
        summary="List products",
        description="Paginated; filter by name substring, price range and stock; sort by name, price or "
        "creation time (prefix `-` for descending). Answers carry an `ETag`; send it back in "
        "`If-None-Match` to get 304 while the list has not changed.",
    )
    async def list_products(
        self,
        products: NamedDependency[ProductService],
        page_params: NamedDependency[PageParams],
        name: Annotated[
            str | None, Parameter(max_length=200, description="Name contains (case-insensitive).")
        ] = None,
        min_price: Annotated[str | None, Parameter(pattern=PRICE_FILTER, description="Lowest price.")] = None,
        max_price: Annotated[
            str | None, Parameter(pattern=PRICE_FILTER, description="Highest price.")
        ] = None,
        in_stock: Annotated[
            bool | None, Parameter(description="Only products with (or without) stock.")
        ] = None,
        sort: Annotated[SortKey, Parameter(description="Sort key.")] = "-created_at",
    ) -> ApiResponse[Page[ProductOut]]:
        query = ProductQuery(
            name=name,
            min_price=to_decimal(min_price),
            max_price=to_decimal(max_price),
            in_stock=in_stock,
            sort=sort,
        )
        return success(await products.find(page_params, query))

    @get(
        "/{product_id:uuid}",
        summary="Get a product",
        description="One product by id.",
        responses=responses(Codes.NOT_FOUND),
    )
    async def get_product(
        self, products: NamedDependency[ProductService], product_id: ProductId
    ) -> ApiResponse[ProductOut]:
        return success(await products.product(product_id))

    @post(
        "/",
        summary="Create a product",
        description="A product name is unique (409 / 4002 otherwise).",
        guards=[require(PRODUCTS_WRITE)],
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED, Codes.ALREADY_EXISTS
        ),
    )
    async def create_product(
        self, products: NamedDependency[ProductService], data: JSONBody[ProductCreate]
    ) -> ApiResponse[ProductOut]:
        return success(await products.create_product(data), "Created")

    @patch(
        "/{product_id:uuid}",
        summary="Change a product",
        description="Only the fields sent are changed.",
        guards=[require(PRODUCTS_WRITE)],
        responses=responses(
            Codes.UNAUTHENTICATED,
            Codes.TOKEN_EXPIRED,
            Codes.PERMISSION_DENIED,
            Codes.NOT_FOUND,
            Codes.ALREADY_EXISTS,
            Codes.STALE_VERSION,
        ),
    )
    async def update_product(
        self, products: NamedDependency[ProductService], product_id: ProductId, data: JSONBody[ProductUpdate]
    ) -> ApiResponse[ProductOut]:
        return success(await products.update_product(product_id, data))

    @delete(
        "/{product_id:uuid}",
        summary="Delete a product",
        description="Answers 204 with no body.",
        guards=[require(PRODUCTS_WRITE)],
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED, Codes.NOT_FOUND
        ),
    )
    async def delete_product(self, products: NamedDependency[ProductService], product_id: ProductId) -> None:
        await products.delete_product(product_id)


class InventoryController(Controller):
    path = "/v1/inventory"

    @get(
        "/{product_id:uuid}",
        summary="Stock of a product",
        description="The quantity in stock and the version to send back when changing it.",
        responses=responses(Codes.NOT_FOUND),
    )
    async def get_inventory(
        self, products: NamedDependency[ProductService], product_id: ProductId
    ) -> ApiResponse[InventoryOut]:
        return success(await products.inventory(product_id))

    @put(
        "/{product_id:uuid}",
        summary="Set the stock of a product",
        description="Send the version you read; if someone changed the product since, the "
        "answer is 409 / 4003 with the current version in `data`.",
        guards=[require(STOCK_WRITE)],
        responses=responses(
            Codes.UNAUTHENTICATED,
            Codes.TOKEN_EXPIRED,
            Codes.PERMISSION_DENIED,
            Codes.NOT_FOUND,
            Codes.STALE_VERSION,
        ),
    )
    async def set_inventory(
        self,
        products: NamedDependency[ProductService],
        product_id: ProductId,
        data: JSONBody[InventoryUpdate],
    ) -> ApiResponse[InventoryOut]:
        return success(await products.set_inventory(product_id, data))


class ReportController(Controller):
    path = "/v1/reports"
    guards = [require(REPORTS_RUN)]

    @post(
        "/low-stock",
        status_code=202,
        summary="Queue the low-stock report",
        description="The report is written by a background job (also every 10 minutes).",
        responses=responses(Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED),
    )
    async def queue_low_stock(
        self, jobs: NamedDependency[Jobs], threshold: Annotated[int, Parameter(ge=1, le=1_000_000)] = 5
    ) -> ApiResponse[ReportQueued]:
        key = await jobs.enqueue(low_stock_report, threshold=threshold)
        return success(ReportQueued(job_key=key), "Queued")

    @get(
        "/low-stock",
        summary="The latest low-stock report",
        description="404 until a report has been written.",
        responses=responses(
            Codes.UNAUTHENTICATED, Codes.TOKEN_EXPIRED, Codes.PERMISSION_DENIED, Codes.NOT_FOUND
        ),
    )
    async def low_stock(self, store: NamedDependency[Store]) -> ApiResponse[LowStockReport]:
        report = await store.get(*REPORT_KEY, type=LowStockReport)
        if report is None:
            raise NotFoundError("No low-stock report yet")
        return success(report)
