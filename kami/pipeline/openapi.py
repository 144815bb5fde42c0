"""The OpenAPI document at ``/schema``: its configuration, the docs pages (served from kami's own
assets), stable operation ids, and :func:`responses` for routes to document their failures by business
code. Litestar's generated document is then rewritten once at start-up
(:mod:`kami.overrides.openapi_document`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from litestar import Router
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import (
    OpenAPIRenderPlugin,
    RedocRenderPlugin,
    ScalarRenderPlugin,
    SwaggerRenderPlugin,
)
from litestar.openapi.spec import Components, Contact, License, SecurityScheme, Tag
from litestar.static_files import create_static_files_router

from kami.app_spec import AppSpec
from kami.codes import registry
from kami.routes import APP_KEY, DOCS_ASSETS_PATH, DOCS_PATH, PLATFORM_TAG
from kami.settings import Settings

__all__ = [
    "API_KEY_SCHEME",
    "BEARER_SCHEME",
    "DOCS_ASSET_VERSIONS",
    "build_openapi_config",
    "docs_assets_router",
]


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


BEARER_SCHEME = "bearerToken"  # the names operations that need a caller refer to
API_KEY_SCHEME = "apiKey"
_BEARER = SecurityScheme(
    type="http",
    scheme="bearer",
    bearer_format="JWT",
    description="An access token (the `access_token` a login answers): `Authorization: Bearer <token>`.",
)
_API_KEY = SecurityScheme(
    type="apiKey",
    name="X-API-Key",
    security_scheme_in="header",
    description="An API key for a service client (`kami_<id>_<secret>`, made at `POST /app-a/v1/api-keys`); "
    "it carries the permissions it was given.",
)


def build_openapi_config(settings: Settings, apps: Sequence[AppSpec]) -> OpenAPIConfig:
    tags = [
        Tag(name=PLATFORM_TAG, description="kami's own routes: the index, health probes and metrics."),
        *(Tag(name=spec.tag, description=spec.description or spec.tag) for spec in apps),
    ]
    return OpenAPIConfig(
        tags=tags,
        components=Components(security_schemes={BEARER_SCHEME: _BEARER, API_KEY_SCHEME: _API_KEY}),
        title=settings.app.name,
        version="1.0.0",
        description=_description(settings),
        contact=Contact(name="kami maintainers"),
        license=License(name="MIT", identifier="MIT"),
        path=DOCS_PATH,
        render_plugins=_render_plugins(),
        operation_id_creator=operation_id,
        use_handler_docstrings=False,
        create_examples=False,
    )
