"""What a 404 from routing means: an endpoint nobody declared, or a declared one with an id of the wrong type.

``GET /app-a/v1/orders/not-a-uuid`` reaches no route, because the route says ``{order_id:uuid}``; to the
person who sent it the endpoint exists and the order does not. So a path that has the shape of a
route for the method — every literal segment equal — but whose parameter does not parse is answered
like any other id that names nothing (4001); any other unmatched path is an unknown endpoint (4004).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar.routes import HTTPRoute

from kami.codes import BusinessCode, Codes
from kami.routes import DOCS_PATH

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types.internal_types import PathParameterDefinition

__all__ = ["routing_miss"]

_TYPE_WORDS: dict[type, str] = {
    UUID: "a UUID",
    int: "a whole number",
    float: "a number",
    Decimal: "a decimal number",
    date: "a date like 2026-01-31",
    datetime: "a date and time like 2026-01-31T12:00:00Z",
}


def routing_miss(app: Litestar, method: str, path: str) -> tuple[BusinessCode, str]:
    """The code and message for a request no route took."""
    parameter = _unparsable_parameter(app, method, path)
    if parameter is not None:
        expected = _TYPE_WORDS.get(parameter.type, f"a {parameter.type.__name__}")
        return Codes.NOT_FOUND, f"{Codes.NOT_FOUND.message}: {parameter.name} must be {expected}"
    shown = path if len(path) <= 200 else path[:200] + "…"
    return Codes.ENDPOINT_NOT_FOUND, f"{Codes.ENDPOINT_NOT_FOUND.message}: {method} {shown} (see {DOCS_PATH})"


def _unparsable_parameter(app: Litestar, method: str, path: str) -> PathParameterDefinition | None:
    segments = [segment for segment in path.split("/") if segment]
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or method not in route.methods:
            continue
        components: list[Any] = list(route.path_components)
        if len(components) != len(segments):
            continue
        failed = None
        for component, segment in zip(components, segments, strict=True):
            if isinstance(component, str):
                if component != segment:
                    break
            elif failed is None and not _parses(component, segment):
                failed = component
        else:
            if failed is not None:
                return failed  # type: ignore[no-any-return]
    return None


def _parses(parameter: PathParameterDefinition, segment: str) -> bool:
    if parameter.parser is None:
        return True
    try:
        parameter.parser(segment)
    except (ValueError, TypeError):
        return False
    return True
