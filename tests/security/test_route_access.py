"""Walk every operation of the OpenAPI document: only the intended ones answer without credentials,
and every admin-only route refuses an ordinary user's token."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar.testing import TestClient

from kami.pipeline.app import create_app
from kami.security import require_admin
from kami.settings import Settings
from tests.support.tokens import bearer

# (method, path template) that anyone may call; everything else must answer 401 without a token.
PUBLIC = {
    ("GET", "/"),
    ("GET", "/health"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),  # kept off the public ingress (infra/k8s/base/ingress.yaml)
    ("POST", "/app-a/v1/users"),
    ("POST", "/app-a/v1/auth/login"),
    ("POST", "/app-a/v1/auth/refresh"),
    ("GET", "/app-b/v1/products"),
    ("GET", "/app-b/v1/products/{product_id}"),
    ("GET", "/app-b/v1/inventory/{product_id}"),
}


def _operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


def test_only_the_intended_operations_are_public(sqlite_settings: Settings) -> None:
    with TestClient(create_app(sqlite_settings)) as client:
        document = client.get("/schema/openapi.json").json()
        operations = _operations(document)
        assert len(operations) > 20
        public = set()
        for method, path in operations:
            answer = client.request(method, _concrete(path), json={})
            assert answer.status_code < 500, (method, path, answer.text)
            declared = document["paths"][path][method.lower()].get("security")
            if answer.status_code != 401:
                public.add((method, path))
                assert declared is None, (method, path)
            else:
                assert answer.json()["code"] == 1004
                assert declared == [{"bearerToken": []}], (method, path)  # the docs' Authorize button
    assert public == PUBLIC
    assert set(document["components"]["securitySchemes"]) == {"bearerToken"}


def test_admin_routes_refuse_a_user_token(sqlite_settings: Settings) -> None:
    app = create_app(sqlite_settings)
    user = bearer(sqlite_settings.security.secret_key, "user")
    admin_only = [
        (method, route.path)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if require_admin in (handler.guards or ())
        for method in handler.http_methods
    ]
    assert len(admin_only) >= 6
    with TestClient(app) as client:
        for method, path in admin_only:
            answer = client.request(method, _concrete(re.sub(r":\w+}", "}", path)), json={}, headers=user)
            assert (answer.status_code, answer.json()["code"]) == (403, 1003), (method, path)
