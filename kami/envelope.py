"""The response envelope every JSON answer uses: ``{code, message, data, trace_id, timestamp}``, the
trace id it carries (the W3C trace id of the request, which the logs carry too), and how a route
documents the error envelopes it answers (:func:`responses`)."""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Generic, TypeVar

import msgspec
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from opentelemetry import trace

from kami.codes import BusinessCode, Codes

__all__ = [
    "ApiResponse",
    "ErrorResponse",
    "Page",
    "current_span_id",
    "current_trace_id",
    "error",
    "example_envelope",
    "now",
    "responses",
    "success",
]

T = TypeVar("T")


class ApiResponse(msgspec.Struct, Generic[T], kw_only=True):
    """Envelope of every JSON response. ``code`` is 0 on success, a business code otherwise."""

    code: int
    message: str
    data: T | None = None
    trace_id: str
    timestamp: datetime


class ErrorResponse(ApiResponse[Any], kw_only=True):
    """The envelope as errors use it: ``data`` may name offending fields or components."""


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a list: ``total`` items overall, ``total_pages`` pages of ``page_size``."""

    items: list[T] = msgspec.field(default_factory=list)
    total: int
    page: int
    page_size: int
    total_pages: int

    @classmethod
    def of(cls, items: list[T], total: int, page: int, page_size: int) -> Page[T]:
        pages = math.ceil(total / page_size) if page_size else 0
        return cls(items=items, total=total, page=page, page_size=page_size, total_pages=pages)


def current_trace_id() -> str:
    """32 lowercase hex digits: the active span's trace id, or a fresh random one outside any span."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        return format(context.trace_id, "032x")
    return secrets.token_hex(16)


def current_span_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.span_id, "016x") if context.is_valid else None


def now() -> datetime:
    """The envelope's timestamp: the current UTC time."""
    return datetime.now(UTC)


def success(data: T | None = None, message: str = "Success") -> ApiResponse[T]:
    return ApiResponse(
        code=Codes.SUCCESS.code, message=message, data=data, trace_id=current_trace_id(), timestamp=now()
    )


def error(code: int | BusinessCode, message: str | None = None, data: Any = None) -> ErrorResponse:
    if isinstance(code, BusinessCode):
        message = message or code.message
        code = code.code
    return ErrorResponse(
        code=code, message=message or "Error", data=data, trace_id=current_trace_id(), timestamp=now()
    )


_EXAMPLE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
_EXAMPLE_TIME = "2026-01-01T12:00:00Z"


def example_envelope(code: int, message: str) -> dict[str, Any]:
    """An envelope as the OpenAPI document shows it: fixed trace id and time."""
    return {
        "code": code,
        "message": message,
        "data": None,
        "trace_id": _EXAMPLE_TRACE,
        "timestamp": _EXAMPLE_TIME,
    }


def responses(*failures: BusinessCode, business: Sequence[BusinessCode] = ()) -> dict[int, ResponseSpec]:
    """Envelope-shaped error responses for a route, one per HTTP status, with an example of each code:
    ``responses(Codes.NOT_FOUND, Codes.STALE_VERSION)``. ``business`` documents the business failures
    of a route whose success is not HTTP 200 (e.g. 201): they are answered with HTTP 200 and one of
    these codes."""
    by_status: dict[int, list[BusinessCode]] = {}
    for code in failures:
        if code.http_status < 400:
            raise ValueError(f"{code.code} is not an error answer; document it with business=[...]")
        by_status.setdefault(code.http_status, []).append(code)
    specs = {status: _spec(status, codes) for status, codes in by_status.items()}
    if business:
        specs[200] = _spec(200, list(business))
        specs[200].description = "Business failure: HTTP 200 with a non-zero code"
    return specs


def _spec(status: int, codes: Sequence[BusinessCode]) -> ResponseSpec:
    return ResponseSpec(
        data_container=ErrorResponse,
        description=HTTPStatus(status).phrase,
        generate_examples=False,
        examples=[Example(summary=c.message, value=example_envelope(c.code, c.message)) for c in codes],
    )
