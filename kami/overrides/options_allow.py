"""The ``Allow`` header of Litestar's automatic ``OPTIONS`` answers, corrected.

Litestar builds that answer when it first groups a path's handlers, so when two controllers share a
path (App A's public ``POST /users`` and admin ``GET /users``) it lists only the first group's methods.
The merged route knows them all; this ``before_send`` hook answers with those (and HEAD wherever GET
is, which kami answers: :mod:`kami.pipeline.head`).

Overrides: the ``Allow`` header of Litestar's generated ``OPTIONS`` handler.
Upstream: https://github.com/litestar-org/litestar/issues/4169 (closed: fixed in Litestar 3 only).
Written for: litestar 2.25.0.
Tripwire: tests/overrides/test_options_allow.py — fails once plain Litestar lists every method.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

from kami.overrides.response_headers import SendHook, set_response_headers
from kami.routes import answered_methods

__all__ = ["options_allow_header"]


def options_allow_header() -> SendHook:
    allowed: dict[str, bytes] = {}  # path template -> "GET, OPTIONS, POST", filled on first use

    def methods_of(app: Litestar, template: str) -> bytes | None:
        if not allowed:
            for route in app.routes:
                if isinstance(route, HTTPRoute):
                    allowed[route.path_format] = ", ".join(answered_methods(route.methods)).encode()
        return allowed.get(template)

    async def correct(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
            return
        template = scope.get("path_template")
        methods = methods_of(scope["app"], template) if template else None
        if methods is not None:
            set_response_headers(message, [(b"allow", methods)])

    return correct
