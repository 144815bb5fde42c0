"""The OpenAPI document at ``/schema``: envelope-shaped error responses and clean component names.

Litestar documents errors in its own ``{status_code, detail, extra}`` shape and names generic structs
after their module path (``ApiResponse_apps.x.UserOut_``). :func:`polish` rewrites the generated
document once, at startup, so that every documented error is the envelope and every name is short.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Router
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import (
    OpenAPIRenderPlugin,
    RedocRenderPlugin,
    ScalarRenderPlugin,
    SwaggerRenderPlugin,
)
from litestar.openapi.spec import (
    Components,
    Contact,
    Example,
    License,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
)
from litestar.static_files import create_static_files_router

from kami.codes import BusinessCode, Codes, code_for_status, registry
from kami.envelope import ErrorResponse
from kami.routes import APP_KEY
from kami.settings import Settings

__all__ = ["DOCS_ASSET_VERSIONS", "build_openapi_config", "docs_assets_router", "polish", "responses"]

ERROR_COMPONENT = "ErrorResponse"
# What every app route (and every route taking input) may answer besides what it documents itself.
_APP_ROUTE_FAILURES = (Codes.TOO_MANY_REQUESTS, Codes.DATABASE_ERROR, Codes.CACHE_UNAVAILABLE)
_INPUT_FAILURES = (Codes.INVALID_INPUT, Codes.MISSING_FIELD)
_BODY_FAILURES = (Codes.MALFORMED_REQUEST, Codes.PAYLOAD_TOO_LARGE)
_EXAMPLE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
_EXAMPLE_TIME = "2026-01-01T12:00:00Z"


def _example(code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "data": None,
        "trace_id": _EXAMPLE_TRACE,
        "timestamp": _EXAMPLE_TIME,
    }


def responses(*failures: BusinessCode, business: Sequence[BusinessCode] = ()) -> dict[int, ResponseSpec]:
    """Envelope-shaped error responses for a route, one per HTTP status, with an example of each code:
    ``responses(Codes.NOT_FOUND, Codes.STALE_VERSION)``. ``business`` documents the business failures
    of a route whose success is not HTTP 200 (e.g. 201): they are answered with HTTP 200 and one of
    these codes."""
    by_status: dict[int, list[BusinessCode]] = {}
    for code in failures:
        if code.http_status < 400:
            raise ValueError(f"{code.code} is not an error answer; document it with business=[...]")
        by_status.setdefault(code.http_status, []).append(code)
    specs = {status: _spec(status, codes) for status, codes in by_status.items()}
    if business:
        specs[200] = _spec(200, list(business))
        specs[200].description = "Business failure: HTTP 200 with a non-zero code"
    return specs


def _spec(status: int, codes: Sequence[BusinessCode]) -> ResponseSpec:
    return ResponseSpec(
        data_container=ErrorResponse,
        description=HTTPStatus(status).phrase,
        generate_examples=False,
        examples=[Example(summary=c.message, value=_example(c.code, c.message)) for c in codes],
    )


def _description(settings: Settings) -> str:
    return (
        "Every JSON response, success or error, is the envelope "
        "`{code, message, data, trace_id, timestamp}`: `code` is 0 on success, `trace_id` is the W3C "
        "trace id of the request (also in the `X-Trace-Id` header), `timestamp` is ISO 8601 UTC.\n\n"
        "Business failures are answered with HTTP 200 and a non-zero code; malformed bodies 400, "
        "field validation 422, authentication 401, permissions 403, missing resources 404, conflicts "
        "409, rate limits 429, dependency outages 503.\n\n"
        'Money is a decimal encoded as a JSON string in plain notation (e.g. `"19.99"`).\n\n'
        + registry.markdown_table()
    )


DOCS_ASSETS = Path(__file__).parent / "docs_assets"
DOCS_ASSETS_PATH = "/schema/assets"
DOCS_ASSET_VERSIONS = {"swagger-ui-dist": "5.35.0", "redoc": "2.5.4", "@scalar/api-reference": "1.72.1"}


def _render_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI, ReDoc and Scalar from the assets kami ships (see ``kami/pipeline/docs_assets/README.md``):
    the pages render in a closed network, with no CDN, font service or favicon host."""
    assets = DOCS_ASSETS_PATH
    favicon = f"<link rel='icon' type='image/png' href='{assets}/favicon.png'>"
    return [
        SwaggerRenderPlugin(
            version=DOCS_ASSET_VERSIONS["swagger-ui-dist"],
            js_url=f"{assets}/swagger-ui/swagger-ui-bundle.js",
            css_url=f"{assets}/swagger-ui/swagger-ui.css",
            standalone_preset_js_url=f"{assets}/swagger-ui/swagger-ui-standalone-preset.js",
            favicon=favicon,
        ),
        RedocRenderPlugin(
            version=DOCS_ASSET_VERSIONS["redoc"],
            js_url=f"{assets}/redoc/redoc.standalone.js",
            google_fonts=False,
            favicon=favicon,
        ),
        ScalarRenderPlugin(
            version=DOCS_ASSET_VERSIONS["@scalar/api-reference"],
            js_url=f"{assets}/scalar/standalone.js",
            css_url=f"{assets}/scalar/kami.css",
            options={"withDefaultFonts": False},
            favicon=favicon,
        ),
    ]


def docs_assets_router() -> Router:
    return create_static_files_router(
        path=DOCS_ASSETS_PATH, directories=[DOCS_ASSETS], include_in_schema=False, name="docs-assets"
    )


def _camel(words: list[str]) -> str:
    return words[0] + "".join(word.title() for word in words[1:])


def operation_id(route_handler: HTTPRouteHandler, http_method: Any, path_components: Any) -> str:
    """``appA_register``, ``appB_listProducts``, ``platform_ready``: the owning app, then the handler's
    name — short, stable names for generated clients (Litestar's default glues the path together)."""
    owner = _camel(re.split(r"[-_]", route_handler.opt.get(APP_KEY, "platform")))
    return f"{owner}_{_camel(route_handler.handler_name.split('_'))}"


def build_openapi_config(settings: Settings) -> OpenAPIConfig:
    return OpenAPIConfig(
        title=settings.app.name,
        version="1.0.0",
        description=_description(settings),
        contact=Contact(name="kami maintainers"),
        license=License(name="MIT", identifier="MIT"),
        path="/schema",
        render_plugins=_render_plugins(),
        operation_id_creator=operation_id,
        use_handler_docstrings=False,
        create_examples=False,
    )


# --- rewriting the generated document -------------------------------------------------------------

_MODULE_PATH = re.compile(r"(?<=_)(?:[a-z_][a-z0-9_]*\.)+")


def _clean_name(key: str) -> str:
    """``ApiResponse_kami.envelope.Page_apps.b.ProductOut__`` -> ``ProductOutPageResponse``."""
    if "_" not in key or "." not in key:
        return key
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
                    str(code.code): Example(summary=code.message, value=_example(code.code, code.message))
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
    "date-time": _EXAMPLE_TIME,
    "date": "2026-01-01",
    "email": "ada@example.com",
    "decimal": "12.50",
}


def _sample(schema: dict[str, Any], schemas: dict[str, Any], depth: int = 0) -> Any:
    """An example value for a JSON schema: its own example if it has one, else one built from its type."""
    if depth > 8:
        return None
    if "$ref" in schema:
        return _sample(schemas.get(schema["$ref"].rsplit("/", 1)[1], {}), schemas, depth + 1)
    if schema.get("examples"):
        examples = schema["examples"]
        return examples[0] if isinstance(examples, list) else next(iter(examples.values()))
    for key in ("oneOf", "anyOf"):
        options = [o for o in schema.get(key, []) if o.get("type") != "null"]
        if options:
            return _sample(options[0], schemas, depth + 1)
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        return {name: _sample(sub, schemas, depth + 1) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [_sample(schema.get("items", {}), schemas, depth + 1)]
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
                            "code": 0,
                            "message": "Success",
                            "trace_id": _EXAMPLE_TRACE,
                            "timestamp": _EXAMPLE_TIME,
                        }
                    media.examples = {"success": Example(summary="Success", value=value)}


def polish(app: Litestar) -> None:
    """Rewrite the cached OpenAPI document in place (call once, at startup, before it is served)."""
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
    for path, item in (document.paths or {}).items():
        platform = path.startswith(("/health", "/metrics"))
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if isinstance(operation, Operation):
                _fix_operation(operation, platform)
    _add_success_examples(document)
    _close_request_bodies(app, schemas)


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
