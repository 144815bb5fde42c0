"""The request class: a JSON body that cannot be decoded is the client's error (400 / 3003), whatever
way it fails — including invalid UTF-8 and nesting deeper than the decoder can go, which Litestar lets
through as ``UnicodeDecodeError`` and ``RecursionError`` (answered 500 before this).

Overrides: ``Request.json`` (as the application's ``request_class``).
Upstream: none filed that we found; the tripwire shows the behaviour.
Written for: litestar 2.25.0, msgspec 0.22.0.
Tripwire: tests/overrides/test_json_request.py — fails once plain Litestar answers those bodies
itself as a client error.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException

__all__ = ["KamiRequest"]


class KamiRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            return await super().json()
        except UnicodeDecodeError as exc:
            raise ClientException("JSON is malformed: invalid UTF-8") from exc
        except RecursionError as exc:
            raise ClientException("JSON is malformed: nested too deeply") from exc
