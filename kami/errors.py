"""Errors services raise. Each carries its business code; the HTTP status comes from the code.

Services never raise HTTP exceptions: they raise these, and :mod:`kami.pipeline.exception_handlers` turns them
into envelopes in one place.
"""

from __future__ import annotations

from typing import Any

from kami.codes import BusinessCode, Codes

__all__ = [
    "AuthenticationError",
    "BusinessError",
    "CacheUnavailableError",
    "ConflictError",
    "KamiError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ValidationError",
]


class KamiError(Exception):
    """Base of every error kami answers with its own envelope."""

    default: BusinessCode = Codes.UNKNOWN

    def __init__(
        self,
        message: str | None = None,
        *,
        code: BusinessCode | None = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.business_code = code or self.default
        self.message = message or self.business_code.message
        self.data = data
        self.headers = headers or {}
        super().__init__(self.message)

    @property
    def status_code(self) -> int:
        return self.business_code.http_status


class BusinessError(KamiError):
    """A business rule refused the operation: answered with HTTP 200 and the (non-zero) code."""

    default = Codes.BUSINESS_RULE

    @property
    def status_code(self) -> int:
        return 200


class ValidationError(KamiError):
    default = Codes.INVALID_INPUT


class NotFoundError(KamiError):
    default = Codes.NOT_FOUND


class ConflictError(KamiError):
    default = Codes.CONFLICT


class AuthenticationError(KamiError):
    default = Codes.UNAUTHENTICATED


class PermissionDeniedError(KamiError):
    default = Codes.PERMISSION_DENIED


class RateLimitedError(KamiError):
    """Too many requests or attempts: 429 / 4006, with ``Retry-After`` in ``headers``."""

    default = Codes.TOO_MANY_REQUESTS


class CacheUnavailableError(KamiError):
    """The shared store cannot be reached for something that needs it; the client may retry later."""

    default = Codes.CACHE_UNAVAILABLE
