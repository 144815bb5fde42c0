"""The one registry of business codes.

Ranges: 0 success, 1xxx authentication, 2xxx business, 3xxx validation, 4xxx resource, 5xxx system,
9xxx unknown; applications own blocks from 10000 up and register their codes here at startup.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

__all__ = [
    "PLATFORM_RANGE",
    "BusinessCode",
    "CodeClashError",
    "CodeRegistry",
    "Codes",
    "code_for_status",
    "registry",
]

PLATFORM_RANGE = range(0, 10000)


class BusinessCode(msgspec.Struct, frozen=True):
    """A business code with its default message and the HTTP status it is answered with.

    Apps declare theirs without an owner: registering them (when the app is mounted) records the app
    that owns them, from its ``AppSpec``.
    """

    code: int
    message: str
    http_status: int = 200
    owner: str = ""


class CodeClashError(ValueError):
    """Two owners claimed the same code or range, or a code lies outside its owner's range."""


class CodeRegistry:
    def __init__(self) -> None:
        self._codes: dict[int, BusinessCode] = {}
        self._ranges: dict[str, range] = {"kami": PLATFORM_RANGE}

    def reserve(self, owner: str, codes: range) -> None:
        """Give ``owner`` (an app) the block ``codes``; overlapping another owner's block is an error."""
        if codes.start < PLATFORM_RANGE.stop:
            raise CodeClashError(f"{owner}: range {codes.start}-{codes.stop - 1} overlaps the platform codes")
        for other, taken in self._ranges.items():
            if other != owner and codes.start < taken.stop and taken.start < codes.stop:
                raise CodeClashError(
                    f"{owner}: range {codes.start}-{codes.stop - 1} overlaps {other}'s "
                    f"{taken.start}-{taken.stop - 1}"
                )
        self._ranges[owner] = codes

    def register(self, code: int, message: str, http_status: int = 200, owner: str = "kami") -> BusinessCode:
        allowed = self._ranges.get(owner)
        if allowed is None or code not in allowed:
            raise CodeClashError(f"{owner}: code {code} is outside its reserved range")
        entry = BusinessCode(code, message, http_status, owner)
        existing = self._codes.get(code)
        if existing is not None and existing != entry:
            raise CodeClashError(f"code {code} already registered by {existing.owner}: {existing.message!r}")
        self._codes[code] = entry
        return entry

    def release(self, owner: str) -> None:
        """Forget an app's block and codes (used when an application is unmounted, e.g. in tests)."""
        self._ranges.pop(owner, None)
        self._codes = {c: e for c, e in self._codes.items() if e.owner != owner}

    def get(self, code: int) -> BusinessCode | None:
        return self._codes.get(code)

    def __iter__(self) -> Iterator[BusinessCode]:
        return iter(sorted(self._codes.values(), key=lambda c: c.code))

    def platform_only(self) -> CodeRegistry:
        """A separate registry holding just the platform's codes (to register apps into on the side)."""
        copy = CodeRegistry()
        copy._codes = {code: entry for code, entry in self._codes.items() if entry.owner == "kami"}
        return copy

    def markdown_table(self) -> str:
        """Every code as a Markdown table: the OpenAPI description and ``docs/codes.md`` share it."""
        rows = [f"| {c.code} | {c.message} | {c.http_status} | {c.owner} |" for c in self]
        return "\n".join(["| code | meaning | HTTP | owner |", "|---|---|---|---|", *rows]) + "\n"


registry = CodeRegistry()
_r = registry.register


class Codes:
    """The platform's codes: the request pipeline's and the identity slice's. Apps' codes live in their
    own ranges (``AppSpec.codes``)."""

    SUCCESS = _r(0, "Success")
    LOGIN_FAILED = _r(1001, "Login failed")
    TOKEN_EXPIRED = _r(1002, "Token expired", 401)
    PERMISSION_DENIED = _r(1003, "Insufficient permissions", 403)
    UNAUTHENTICATED = _r(1004, "Missing or invalid credentials", 401)
    SESSION_ENDED = _r(1005, "The session has ended (logged out or revoked); log in again", 401)
    REFRESH_TOKEN_REUSED = _r(1006, "Refresh token already used: its session has ended, log in again", 401)
    ACCOUNT_DISABLED = _r(1007, "This account is deactivated", 403)
    PERSON_ONLY = _r(1008, "Only the account's owner, signed in, can do this: an API key cannot", 403)
    REAUTHENTICATE = _r(
        1009, "This needs a recent sign-in: confirm your password (POST /accounts/v1/auth/confirm)", 403
    )
    ADDRESS_NOT_CONFIRMED = _r(1010, "Confirm your email address first", 403)
    BUSINESS_RULE = _r(2000, "The operation was refused by a business rule")
    INVALID_INPUT = _r(3001, "Invalid input", 422)
    MISSING_FIELD = _r(3002, "Missing required field", 422)
    MALFORMED_REQUEST = _r(3003, "Malformed request body", 400)
    PAYLOAD_TOO_LARGE = _r(3004, "Payload too large", 413)
    HEADERS_TOO_LARGE = _r(3005, "Request headers too large", 431)
    IDEMPOTENCY_NOT_SUPPORTED = _r(3006, "This operation does not take an Idempotency-Key", 422)
    UNSUPPORTED_MEDIA_TYPE = _r(3007, "Send the body as JSON (Content-Type: application/json)", 415)
    NOT_FOUND = _r(4001, "Resource not found", 404)
    ALREADY_EXISTS = _r(4002, "Resource already exists", 409)
    CONFLICT = _r(4003, "Resource conflict", 409)
    ENDPOINT_NOT_FOUND = _r(4004, "Unknown endpoint", 404)
    METHOD_NOT_ALLOWED = _r(4005, "Method not allowed", 405)
    TOO_MANY_REQUESTS = _r(4006, "Too many requests", 429)
    STALE_VERSION = _r(4007, "The resource was changed by someone else; reload it", 409)
    IDEMPOTENCY_KEY_REUSED = _r(4008, "This Idempotency-Key was used for a different request", 409)
    IDEMPOTENCY_IN_FLIGHT = _r(4009, "A request with this Idempotency-Key is still running; retry", 409)
    LINK_NOT_VALID = _r(4010, "This link is not valid: it was used, it expired, or it was never sent", 404)
    ROLE_BUILT_IN = _r(4011, "The built-in roles 'user' and 'admin' cannot be changed", 409)
    ROLE_IN_USE = _r(4012, "Accounts still hold this role: give them another one first", 409)
    DATABASE_ERROR = _r(5001, "Database error", 503)
    EXTERNAL_SERVICE_ERROR = _r(5002, "External service error", 502)
    CACHE_UNAVAILABLE = _r(5003, "Cache unavailable", 503)
    SERVICE_UNAVAILABLE = _r(5004, "Service unavailable", 503)
    TRANSACTION_CONFLICT = _r(5005, "The operation collided with a concurrent one; retry it", 503)
    OVERLOADED = _r(5006, "The server is at capacity; retry shortly", 503)
    DEADLINE_EXCEEDED = _r(5007, "The request took longer than its deadline and was stopped", 504)
    UNKNOWN = _r(9000, "Unknown error", 500)


del _r

_FOR_STATUS: dict[int, BusinessCode] = {
    400: Codes.MALFORMED_REQUEST,
    401: Codes.UNAUTHENTICATED,
    403: Codes.PERMISSION_DENIED,
    404: Codes.ENDPOINT_NOT_FOUND,
    405: Codes.METHOD_NOT_ALLOWED,
    409: Codes.CONFLICT,
    413: Codes.PAYLOAD_TOO_LARGE,
    415: Codes.UNSUPPORTED_MEDIA_TYPE,
    422: Codes.INVALID_INPUT,
    429: Codes.TOO_MANY_REQUESTS,
    431: Codes.HEADERS_TOO_LARGE,
    500: Codes.UNKNOWN,
    502: Codes.EXTERNAL_SERVICE_ERROR,
    503: Codes.SERVICE_UNAVAILABLE,
    504: Codes.DEADLINE_EXCEEDED,
}


def code_for_status(status: int) -> BusinessCode:
    """The code of an answer for which only the HTTP status is known (an HTTP error raised by
    Litestar, or a status documented without a more specific code): the one table of kami."""
    found = _FOR_STATUS.get(status)
    if found is not None:
        return found
    return Codes.UNKNOWN if status >= 500 else Codes.INVALID_INPUT
