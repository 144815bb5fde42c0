"""The request class: a JSON body that cannot be decoded is the client's error (400 / 3003), whatever
way it fails — including invalid UTF-8 and nesting deeper than the decoder can go, which Litestar lets
through as ``UnicodeDecodeError`` and ``RecursionError`` (answered 500 before this). A JSON route's
body must say it is JSON (``application/json`` or ``application/...+json``): Litestar parses any body
as JSON, so a ``text/plain`` one — which a browser sends cross-site without a CORS preflight — was
accepted; it is 415 / 3007 now.

Overrides: ``Request.json`` (as the application's ``request_class``).
Upstream: none filed that we found (Litestar decodes the body without looking at ``Content-Type``,
litestar/connection/request.py ``Request.json``); the tripwire shows the behaviour.
Written for: litestar 2.25.0, msgspec 0.22.0.
Tripwire: tests/overrides/test_json_request.py — fails once plain Litestar answers those bodies
itself as a client error.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE

__all__ = ["KamiRequest"]


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class KamiRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        if not _is_json(self.headers.get("content-type", "")):
            raise ClientException(
                "Send the body as JSON, with Content-Type: application/json",
                status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            )
        try:
            return await super().json()
        except UnicodeDecodeError as exc:
            raise ClientException("JSON is malformed: invalid UTF-8") from exc
        except RecursionError as exc:
            raise ClientException("JSON is malformed: nested too deeply") from exc
