"""Litestar's generated OpenAPI document, rewritten once at start-up to say what kami really answers.

- Every error response is the envelope (Litestar documents errors in its own ``{status_code, detail,
  extra}`` shape whatever the exception handlers answer), with an example per business code, and the
  failures every app route may answer (429, 503, 500, 422/400/413 for input) are added.
- Generic structs get short component names (``ApiResponse_apps.x.schemas.UserOut_`` becomes
  ``UserOutResponse``).
- Every 2xx JSON response gets an example envelope built from its schema.
- Request structs that refuse unknown fields say so (``additionalProperties: false``).

Overrides: the document Litestar builds (``app.openapi_schema``), rewritten in place before it is
first served.
Upstream: https://github.com/litestar-org/litestar/issues/4523 and
https://github.com/litestar-org/litestar/issues/3020 (error schemas cannot be customised, both open).
Written for: litestar 2.25.0, msgspec 0.22.0.
Tripwire: tests/overrides/test_openapi_document.py — fails once Litestar documents errors and names
generic components the way kami wants by itself, or stops producing what this rewrites.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Litestar
from litestar.enums import ParamType
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
)

from kami.codes import BusinessCode, Codes, code_for_status
from kami.envelope import example_envelope
from kami.routes import is_app_route, policy_of

__all__ = ["ERROR_COMPONENT", "polish"]

ERROR_COMPONENT = "ErrorResponse"
# What every app route (and every route taking input) may answer besides what it documents itself.
_APP_ROUTE_FAILURES = (
    Codes.TOO_MANY_REQUESTS,
    Codes.DATABASE_ERROR,
    Codes.CACHE_UNAVAILABLE,
    Codes.OVERLOADED,
    Codes.DEADLINE_EXCEEDED,
)
_INPUT_FAILURES = (Codes.INVALID_INPUT, Codes.MISSING_FIELD)
_BODY_FAILURES = (Codes.MALFORMED_REQUEST, Codes.PAYLOAD_TOO_LARGE)
_MODULE_PATH = re.compile(r"(?<=_)(?:[a-z_][a-z0-9_]*\.)+")


def _clean_name(key: str) -> str:
    """``ApiResponse_kami.envelope.Page_apps.b.ProductOut__`` -> ``ProductOutPageResponse``;
    ``ApiResponse_list_apps.a.RoleOut_`` -> ``RoleOutListResponse``; ``ApiResponse_NoneType_`` ->
    ``EmptyResponse``."""
    if "_" not in key or ("." not in key and "NoneType" not in key):
        return key
    key = re.sub(r"(?<=_)list_", "List_", key.replace("NoneType", "Empty"))
    parts = [p for p in _MODULE_PATH.sub("", key).split("_") if p]
    parts = ["Response" if p == "ApiResponse" else p[:1].upper() + p[1:] for p in parts]
    return "".join(reversed(parts))


def _walk(node: Any, visit: Any) -> None:
    stack = [node]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        visit(item)
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def _is_litestar_error_shape(response: Any) -> bool:
    if not isinstance(response, OpenAPIResponse) or not response.content:
        return False
    for media in response.content.values():
        schema = media.schema
        props = getattr(schema, "properties", None) or {}
        one_of = getattr(schema, "one_of", None) or []
        if "status_code" in props or any(
            "status_code" in (getattr(s, "properties", None) or {}) for s in one_of
        ):
            return True
    return False


def _error_response(status: int, codes: Sequence[BusinessCode] = ()) -> OpenAPIResponse:
    """The envelope answered with ``status``: an example of each code (by default, the status's own)."""
    return OpenAPIResponse(
        description=HTTPStatus(status).phrase,
        content={
            "application/json": OpenAPIMediaType(
                schema=Reference(ref=f"#/components/schemas/{ERROR_COMPONENT}"),
                examples={
                    str(code.code): Example(
                        summary=code.message, value=example_envelope(code.code, code.message)
                    )
                    for code in (codes or [code_for_status(status)])
                },
            )
        },
    )


def _fix_operation(operation: Operation, platform: bool) -> None:
    found = operation.responses or {}
    for status, response in list(found.items()):
        if not _is_litestar_error_shape(response):
            continue
        if status == "400" and operation.request_body is None:
            del found[status]  # Litestar's "invalid parameters": kami answers those 422
        else:
            found[status] = _error_response(int(status))
    # A path parameter of the wrong type does not match the route at all (404), so only a body, a query
    # or a header can be refused as invalid (422).
    takes_input = operation.request_body is not None or any(
        getattr(p, "param_in", "") != "path" for p in operation.parameters or []
    )
    defaults = [Codes.UNKNOWN, *(() if platform else _APP_ROUTE_FAILURES)]
    if takes_input:
        defaults += _INPUT_FAILURES
    if operation.request_body is not None:
        defaults += _BODY_FAILURES
    by_status: dict[int, list[BusinessCode]] = {}
    for code in defaults:
        by_status.setdefault(code.http_status, []).append(code)
    for answered, codes in by_status.items():
        found.setdefault(str(answered), _error_response(answered, codes))
    operation.responses = dict(sorted(found.items()))


_SAMPLE_STRINGS = {
    "uuid": "0191a2b3-c4d5-7e6f-8091-a2b3c4d5e6f7",
    "date-time": example_envelope(0, "")["timestamp"],
    "date": "2026-01-01",
    "email": "ada@example.com",
    "decimal": "12.50",
}


def _sample(schema: dict[str, Any], schemas: dict[str, Any], expanding: frozenset[str] = frozenset()) -> Any:
    """An example value for a JSON schema: its own example if it has one, else one built from its type
    (``expanding``: the components being sampled, so a recursive one stops instead of looping)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return None if name in expanding else _sample(schemas.get(name, {}), schemas, expanding | {name})
    if "const" in schema:
        return schema["const"]
    if schema.get("examples"):
        examples = schema["examples"]
        return examples[0] if isinstance(examples, list) else next(iter(examples.values()))
    for key in ("oneOf", "anyOf"):
        options = [o for o in schema.get(key, []) if o.get("type") != "null"]
        if options:
            return _sample(options[0], schemas, expanding)
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        return {name: _sample(sub, schemas, expanding) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [_sample(schema.get("items", {}), schemas, expanding)]
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "string":
        if "enum" in schema:
            return schema["enum"][0]
        return _SAMPLE_STRINGS.get(schema.get("format", ""), "string")
    if "enum" in schema:
        return schema["enum"][0]
    return None


def _add_success_examples(document: Any) -> None:
    """Every 2xx JSON response gets an example envelope built from its schema."""
    rendered = document.to_schema()
    schemas = rendered.get("components", {}).get("schemas", {})
    for path, item in (document.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if not isinstance(operation, Operation):
                continue
            for status, response in (operation.responses or {}).items():
                if (
                    not status.startswith("2")
                    or not isinstance(response, OpenAPIResponse)
                    or not response.content
                ):
                    continue
                raw = rendered["paths"][path][method]["responses"][status]["content"]
                for media_type, media in response.content.items():
                    if media.examples or media_type != "application/json":
                        continue
                    value = _sample(raw[media_type].get("schema", {}), schemas)
                    if isinstance(value, dict) and "trace_id" in value:
                        value |= {
                            key: item for key, item in example_envelope(0, "Success").items() if key != "data"
                        }
                    media.examples = {"success": Example(summary="Success", value=value)}


def polish(app: Litestar, security: Sequence[str] = ()) -> None:
    """Rewrite the cached OpenAPI document in place (call once, at startup, before it is served, after
    the route policies are resolved). ``security``: the security schemes, any one of which will do for
    an operation that needs a caller (``RoutePolicy.access``)."""
    document = app.openapi_schema
    components = document.components if isinstance(document.components, Components) else Components()
    schemas = components.schemas if components.schemas is not None else {}
    renames: dict[str, str] = {}
    for key in list(schemas):
        new = _clean_name(key)
        if new != key and new not in schemas and new not in renames.values():
            renames[key] = new
    for old, new in renames.items():
        schemas[new] = schemas.pop(old)
        schemas[new].title = new
    components.schemas = dict(sorted(schemas.items()))

    def rename(item: Any) -> None:
        if isinstance(item, Reference) and item.ref.startswith("#/components/schemas/"):
            name = item.ref.rsplit("/", 1)[1]
            if name in renames:
                item.ref = f"#/components/schemas/{renames[name]}"

    _walk(document, rename)
    _document_idempotency(app, document)  # first: the key is an input, so 422 is documented below
    if security:
        _document_security(app, document, security)
    for handler, operation in _operations_of(app, document):
        _fix_operation(operation, platform=not is_app_route(handler))
    _collapse_single_choices(document)
    _add_success_examples(document)
    _close_request_bodies(app, schemas)
    _document_response_headers(app, document, components)
    document.components = components


_KEY_PARAMETER = Parameter(
    name="Idempotency-Key",
    param_in=ParamType.HEADER,
    required=False,
    description="Makes a retry safe: the first answer is stored with the work and replayed to a retry "
    "with the same key and request (kept KAMI_DATABASE_IDEMPOTENCY_HOURS). 1 to 255 printable characters.",
    schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=255, pattern=r"^[\x20-\x7e]+$"),
)
_REPLAYED = OpenAPIHeader(
    description="`true` when this answer is the stored answer of an earlier request with the same key "
    "(its data; this request's trace id and time).",
    schema=Schema(type=OpenAPIType.STRING, enum=["true"]),
)
_HEADERS = {
    "X-Trace-Id": OpenAPIHeader(
        description="The W3C trace id of this request: the envelope's `trace_id`, and the id to quote.",
        schema=Schema(type=OpenAPIType.STRING, pattern="^[0-9a-f]{32}$"),
    ),
    "X-Request-Id": OpenAPIHeader(
        description="This request's id: the `X-Request-Id` a trusted proxy sent, else a new UUID.",
        schema=Schema(type=OpenAPIType.STRING, max_length=128),
    ),
    "traceparent": OpenAPIHeader(
        description="W3C trace context of the server's span (when tracing is on).",
        schema=Schema(type=OpenAPIType.STRING),
    ),
    "RateLimit-Limit": OpenAPIHeader(
        description="Requests allowed in the caller's window (when rate limiting is on).",
        schema=Schema(type=OpenAPIType.INTEGER, minimum=1),
    ),
    "RateLimit-Remaining": OpenAPIHeader(
        description="Requests left in the current window.", schema=Schema(type=OpenAPIType.INTEGER, minimum=0)
    ),
    "RateLimit-Reset": OpenAPIHeader(
        description="Seconds until the window frees a request.",
        schema=Schema(type=OpenAPIType.INTEGER, minimum=0),
    ),
    "RateLimit-Policy": OpenAPIHeader(
        description="The window, e.g. `100;w=60` (100 requests per 60 seconds).",
        schema=Schema(type=OpenAPIType.STRING),
    ),
    "Retry-After": OpenAPIHeader(
        description="Seconds to wait before retrying.", schema=Schema(type=OpenAPIType.INTEGER, minimum=1)
    ),
}
_EVERY_ANSWER = ("X-Trace-Id", "X-Request-Id", "traceparent")
_RATE_LIMITED = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")


def _header(name: str) -> Reference:
    return Reference(ref=f"#/components/headers/{name}")


def _document_response_headers(app: Litestar, document: Any, components: Components) -> None:
    """The headers kami sends: trace and request ids on every answer; the rate limit's on every answer
    of a rate-limited route (the apps'); ``Retry-After`` on 429, and on an app route's 503."""
    components.headers = {**(components.headers or {}), **_HEADERS}
    for handler, operation in _operations_of(app, document):
        limited = is_app_route(handler)
        for status, response in (operation.responses or {}).items():
            if not isinstance(response, OpenAPIResponse):
                continue
            names = [*_EVERY_ANSWER, *(_RATE_LIMITED if limited else ())]
            if status == "429" or (status == "503" and limited):  # 5005 and 5006 say when to retry
                names.append("Retry-After")
            added = {name: _header(name) for name in names}
            response.headers = {**(response.headers or {}), **added}


def _collapse_single_choices(document: Any) -> None:
    """``oneOf`` with one member (msgspec's ``X | UnsetType``) becomes that member's own keywords."""

    def collapse(item: Any) -> None:
        if not isinstance(item, Schema) or not item.one_of or len(item.one_of) != 1:
            return
        (only,) = item.one_of
        if not isinstance(only, Schema):
            return
        item.one_of = None
        for field in dataclasses.fields(only):
            value = getattr(only, field.name)
            if value is not None and getattr(item, field.name) is None:
                setattr(item, field.name, value)

    _walk(document, collapse)


def _operations_of(app: Litestar, document: Any) -> Iterator[tuple[BaseRouteHandler, Operation]]:
    """Each route handler with the documented operation of each of its methods."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            item = (document.paths or {}).get(getattr(route, "path_format", route.path))
            for method in getattr(handler, "http_methods", ()):
                operation = getattr(item, method.lower(), None)
                if isinstance(operation, Operation):
                    yield handler, operation


def _document_security(app: Litestar, document: Any, schemes: Sequence[str]) -> None:
    """Every operation states its requirement: ``[]`` when public; an operation on the caller's own
    account only the first scheme (a person's bearer token); else each scheme (one of them will do)
    with the permissions it needs as the requirement's roles (OpenAPI 3.1 allows role names for any
    scheme)."""
    for handler, operation in _operations_of(app, document):
        access = policy_of(handler).access
        if access is None:
            operation.security = []
            continue
        said = [operation.description or ""]
        if access.own_account:
            operation.security = [{schemes[0]: []}]
            said.append("For the account's owner, signed in: an API key cannot do this.")
            if access.recent_login:
                said.append("Needs a recent sign-in (`POST /accounts/v1/auth/confirm`).")
        else:
            operation.security = [{scheme: list(access.permissions)} for scheme in schemes]
        if access.permissions:
            needed = ", ".join(f"`{name}`" for name in access.permissions)
            said.append(f"Needs the permission {needed}.")
        operation.description = "\n\n".join(part for part in said if part)


def _document_idempotency(app: Litestar, document: Any) -> None:
    """Idempotent routes take ``Idempotency-Key``, may mark an answer as replayed, and answer 409 for a
    key still running or reused with another request."""
    for handler, operation in _operations_of(app, document):
        if not policy_of(handler).idempotent:
            continue
        operation.parameters = [*(operation.parameters or []), _KEY_PARAMETER]
        responses = operation.responses or {}
        for status, response in responses.items():
            if status.startswith("2") and isinstance(response, OpenAPIResponse):
                response.headers = {**(response.headers or {}), "Idempotent-Replayed": _REPLAYED}
        conflict = responses.get("409")
        added = _error_response(409, [Codes.IDEMPOTENCY_IN_FLIGHT, Codes.IDEMPOTENCY_KEY_REUSED])
        if isinstance(conflict, OpenAPIResponse) and conflict.content:
            media = conflict.content["application/json"]
            extra = (added.content or {})["application/json"].examples or {}
            media.examples = {**(media.examples or {}), **extra}
        else:
            conflict = added
        conflict.headers = {**(conflict.headers or {}), "Retry-After": _header("Retry-After")}
        responses["409"] = conflict
        operation.responses = dict(sorted(responses.items()))


def _close_request_bodies(app: Litestar, schemas: dict[str, Any]) -> None:
    """Request structs that refuse unknown fields say so (``additionalProperties: false``), nested
    structs included, so clients do not send extras the server answers with 422."""
    closed: set[type] = set()
    pending: list[Any] = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None:
                pending.append(data.annotation)
    while pending:
        item = pending.pop()
        info = item if isinstance(item, msgspec.inspect.Type) else msgspec.inspect.type_info(item)
        for nested in _struct_types(info):
            if nested.cls in closed:
                continue
            closed.add(nested.cls)
            if nested.forbid_unknown_fields and nested.cls.__name__ in schemas:
                schemas[nested.cls.__name__].additional_properties = False
            pending.extend(field.type for field in nested.fields)


def _struct_types(info: Any) -> list[Any]:
    """The struct types inside a msgspec type description (through Annotated, lists, unions...)."""
    if isinstance(info, msgspec.inspect.StructType):
        return [info]
    found: list[Any] = []
    for attribute in ("type", "item_type", "value_type"):
        inner = getattr(info, attribute, None)
        if isinstance(inner, msgspec.inspect.Type):
            found += _struct_types(inner)
    for inner in getattr(info, "types", ()) or ():
        found += _struct_types(inner)
    return found
