"""Every exception becomes the envelope here, and only here.

Registered at the application level (not on routers) so that unknown routes and wrong methods, which
never reach a router, are answered the same way. Each class advanced-alchemy's plugin would otherwise
answer itself is registered explicitly, because its defaults are not the envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import structlog
from advanced_alchemy import exceptions as aa
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError

from kami.codes import BusinessCode, Codes, code_for_status
from kami.db.errors import DatabaseFailure, classify
from kami.envelope import error
from kami.errors import KamiError
from kami.pipeline.not_found import routing_miss
from kami.pipeline.validation import field_problems
from kami.routes import answered_methods

__all__ = ["envelope_response", "exception_handlers", "to_envelope_response"]

log = structlog.get_logger("kami.errors")


def envelope_response(
    code: BusinessCode,
    message: str | None = None,
    *,
    status_code: int | None = None,
    data: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Response[Any]:
    return Response(
        content=error(code, message, data),
        status_code=status_code or code.http_status,
        media_type=MediaType.JSON,
        headers=dict(headers or {}),
    )


def _validation_response(exc: ValidationException, request: Request[Any, Any, Any] | None) -> Response[Any]:
    """422 with 3002 for a missing field (or body), 3001 otherwise; ``data.errors`` names each field."""
    problems = field_problems(exc, request)
    code = Codes.MISSING_FIELD if any(p.missing for p in problems) else Codes.INVALID_INPUT
    summary = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in problems)
    message = f"{code.message}: {summary}" if summary else code.message
    return envelope_response(code, message, data={"errors": [p.as_dict() for p in problems]})


def _http_exception_response(exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code = code_for_status(status)
    headers = dict(exc.headers or {})
    if status == 405 and "allow" in headers:  # Litestar's routing names it in lower case
        headers["allow"] = ", ".join(answered_methods(headers["allow"].replace(" ", "").split(",")))
    if status == 400 and isinstance(exc, ClientException) and str(exc.detail).startswith("JSON is malformed"):
        return envelope_response(
            code, f"Malformed JSON body: {exc.detail.split(': ', 1)[-1]}", headers=headers
        )
    message = code.message if status >= 500 else (exc.detail or code.message)
    return envelope_response(code, message, status_code=status, headers=headers)


def to_envelope_response(exc: BaseException, request: Request[Any, Any, Any] | None = None) -> Response[Any]:
    """The envelope for any exception; also used by middleware that must answer without a handler
    (``request``, when there is one, lets a validation failure name a field's allowed values)."""
    if isinstance(exc, KamiError):
        return envelope_response(
            exc.business_code, exc.message, status_code=exc.status_code, data=exc.data, headers=exc.headers
        )
    if isinstance(exc, ValidationException):
        return _validation_response(exc, request)
    if isinstance(exc, NotFoundException) and request is not None and "route_handler" not in request.scope:
        code, message = routing_miss(request.app, request.method, request.url.path)
        return envelope_response(code, message)
    if isinstance(exc, HTTPException):
        return _http_exception_response(exc)
    if _is_redis_unavailable(exc):
        log.warning("redis unavailable", error=type(exc).__name__, detail=str(exc)[:200])
        return envelope_response(Codes.CACHE_UNAVAILABLE)
    failure = classify(exc)
    if failure is DatabaseFailure.UNAVAILABLE:
        log.warning("database unavailable", error=type(exc).__name__, detail=str(exc)[:200])
        return envelope_response(Codes.DATABASE_ERROR, "Database unavailable, retry later")
    if failure is DatabaseFailure.TIMEOUT:
        log.warning("statement stopped by the database's time limit", detail=str(exc)[:200])
        return envelope_response(Codes.DEADLINE_EXCEEDED)
    if failure is DatabaseFailure.LOCK_CONFLICT:
        log.warning("transaction lost a lock conflict", error=type(exc).__name__, detail=str(exc)[:200])
        return envelope_response(Codes.TRANSACTION_CONFLICT, headers={"Retry-After": "1"})
    if failure is DatabaseFailure.DUPLICATE:
        return envelope_response(Codes.ALREADY_EXISTS)
    if failure is DatabaseFailure.INTEGRITY:
        return envelope_response(Codes.CONFLICT)
    if isinstance(exc, aa.NotFoundError):
        return envelope_response(Codes.NOT_FOUND)
    if isinstance(exc, StaleDataError):
        return envelope_response(Codes.STALE_VERSION)
    log.error("unhandled exception", exc_info=exc)
    return envelope_response(Codes.UNKNOWN, "Internal server error")


def _is_redis_unavailable(exc: BaseException) -> bool:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(exc, RedisConnectionError | RedisTimeoutError)


def _handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return to_envelope_response(exc, request)


Handler = Callable[[Request[Any, Any, Any], Exception], Response[Any]]

# Explicit keys for everything a plugin might otherwise claim (see the module docstring).
exception_handlers: dict[type[Exception] | int, Handler] = {
    cls: _handler
    for cls in (
        Exception,
        KamiError,
        HTTPException,
        ValidationException,
        NotFoundException,
        MethodNotAllowedException,
        NotAuthorizedException,
        PermissionDeniedException,
        RequestEntityTooLarge,
        TooManyRequestsException,
        aa.AdvancedAlchemyError,
        aa.RepositoryError,
        aa.NotFoundError,
        aa.IntegrityError,
        aa.DuplicateKeyError,
        aa.ForeignKeyError,
        aa.MultipleResultsFoundError,
        aa.InvalidRequestError,
        sa_exc.SQLAlchemyError,
    )
}
