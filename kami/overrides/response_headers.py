"""Setting headers on an ASGI ``http.response.start`` message in one pass, and the shape of the
``before_send`` hooks that do it.

Litestar's ``MutableScopeHeaders.__setitem__`` rescans (and re-decodes) the whole header list for every
header it sets; the hooks that run on every response set five to eight each, so they share this instead.

Overrides: Litestar's ``MutableScopeHeaders`` (kami sets response headers without it).
Upstream: none filed.
Written for: litestar 2.25.0.
Tripwire: tests/overrides/test_response_headers.py — fails once setting one header through Litestar
no longer walks the whole list (then use it again).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import cast

from litestar.types import Message, Scope

__all__ = ["SendHook", "set_response_headers"]

SendHook = Callable[[Message, Scope], Awaitable[None]]


def set_response_headers(message: Message, headers: Iterable[tuple[bytes, bytes]]) -> None:
    """Set ``headers`` (lower-case names) on ``message``, replacing any already there under those names."""
    new = dict(headers)
    current = cast("Iterable[tuple[bytes, bytes]]", message.get("headers", ()))
    kept = [(name, value) for name, value in current if name.lower() not in new]
    kept.extend(new.items())
    message["headers"] = kept  # type: ignore[typeddict-unknown-key]
