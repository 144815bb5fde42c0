"""kami: the public API applications build on. Apps import from here, never from kami's modules.

Each name is loaded from its module on first use: ``import kami.settings`` (what ``kami config``
and ``kami --help`` need) must not import the web stack that ``AppSpec`` and ``responses`` bring.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kami.app_spec import AppSpec
    from kami.codes import BusinessCode, Codes
    from kami.envelope import ApiResponse, ErrorResponse, Page, error, responses, success
    from kami.errors import (
        AuthenticationError,
        BusinessError,
        ConflictError,
        KamiError,
        NotFoundError,
        PermissionDeniedError,
        ValidationError,
    )
    from kami.fields import decimal_meta, decimal_pattern, pattern, to_decimal
    from kami.observability.events import events
    from kami.observability.slo import ServiceLevel
    from kami.routes import RateLimit, ResponseCache, route_options
    from kami.security.permissions import Permission

_WHERE = {  # public name -> (module, name there)
    "AppSpec": ("kami.app_spec", "AppSpec"),
    "BusinessCode": ("kami.codes", "BusinessCode"),
    "Codes": ("kami.codes", "Codes"),
    "decimal_meta": ("kami.fields", "decimal_meta"),
    "decimal_pattern": ("kami.fields", "decimal_pattern"),
    "to_decimal": ("kami.fields", "to_decimal"),
    "ApiResponse": ("kami.envelope", "ApiResponse"),
    "ErrorResponse": ("kami.envelope", "ErrorResponse"),
    "Page": ("kami.envelope", "Page"),
    "error": ("kami.envelope", "error"),
    "success": ("kami.envelope", "success"),
    "AuthenticationError": ("kami.errors", "AuthenticationError"),
    "BusinessError": ("kami.errors", "BusinessError"),
    "ConflictError": ("kami.errors", "ConflictError"),
    "KamiError": ("kami.errors", "KamiError"),
    "NotFoundError": ("kami.errors", "NotFoundError"),
    "PermissionDeniedError": ("kami.errors", "PermissionDeniedError"),
    "ValidationError": ("kami.errors", "ValidationError"),
    "events": ("kami.observability.events", "events"),
    "pattern": ("kami.fields", "pattern"),
    "responses": ("kami.envelope", "responses"),
    "RateLimit": ("kami.routes", "RateLimit"),
    "ResponseCache": ("kami.routes", "ResponseCache"),
    "ServiceLevel": ("kami.observability.slo", "ServiceLevel"),
    "Permission": ("kami.security.permissions", "Permission"),
    "route_options": ("kami.routes", "route_options"),
}

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
    "Permission",
    "PermissionDeniedError",
    "RateLimit",
    "ResponseCache",
    "ServiceLevel",
    "ValidationError",
    "decimal_meta",
    "decimal_pattern",
    "error",
    "events",
    "pattern",
    "responses",
    "route_options",
    "success",
    "to_decimal",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'kami' has no attribute {name!r}")
    value = getattr(importlib.import_module(where[0]), where[1])
    globals()[name] = value  # the next lookup is a plain attribute
    return value
