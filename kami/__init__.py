"""kami: the public API applications build on. Apps import from here, never from kami's modules."""

from kami.app_spec import AppSpec
from kami.codes import BusinessCode, Codes
from kami.decimals import decimal_meta, decimal_pattern, to_decimal
from kami.envelope import ApiResponse, ErrorResponse, Page, error, success
from kami.errors import (
    AuthenticationError,
    BusinessError,
    ConflictError,
    KamiError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from kami.observability.counters import counters as events
from kami.pipeline.openapi import responses
from kami.routes import RateLimit, ResponseCache, route_options

__all__ = [
    "ApiResponse",
    "AppSpec",
    "AuthenticationError",
    "BusinessCode",
    "BusinessError",
    "Codes",
    "ConflictError",
    "ErrorResponse",
    "KamiError",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "RateLimit",
    "ResponseCache",
    "ValidationError",
    "decimal_meta",
    "decimal_pattern",
    "error",
    "events",
    "responses",
    "route_options",
    "success",
    "to_decimal",
]
