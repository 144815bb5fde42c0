"""The authorization walk: every operation of the OpenAPI document is called the way its declared
requirement says it must be — without credentials, without the permission it names, and with exactly
that permission — and answers accordingly. A route that forgot its guard, or a document that states
another requirement than the route enforces, fails here."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar.testing import TestClient

from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.support.tokens import session_headers

SCHEME = "bearerToken"
SCHEMES = [SCHEME, "apiKey"]  # either will do
# (method, path template) that anyone may call; everything else must answer 401 without a token.
PUBLIC = {
    ("GET", "/"),
    ("GET", "/health"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),  # kept off the public ingress (infra/k8s/base/ingress.yaml)
    ("POST", "/accounts/v1/users"),
    ("POST", "/accounts/v1/auth/login"),
    ("POST", "/accounts/v1/auth/refresh"),
    ("POST", "/accounts/v1/auth/password-reset"),
    ("POST", "/accounts/v1/auth/password-reset/confirm"),  # the emailed token is the credential
    ("GET", "/accounts/v1/auth/verify-email"),  # likewise
    ("POST", "/accounts/v1/auth/verify-email/resend"),
    ("GET", "/app-b/v1/products"),
    ("GET", "/app-b/v1/products/{product_id}"),
    ("GET", "/app-b/v1/inventory/{product_id}"),
}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _concrete(path: str) -> str:
    return re.sub(r"\{(name|session_id)\}", "some-name", re.sub(r"\{[^}]+_id\}", str(uuid.uuid4()), path))


def test_only_the_intended_operations_are_public(sqlite_settings: Settings) -> None:
    with TestClient(create_app(sqlite_settings)) as client:
        document = client.get("/schema/openapi.json").json()
        operations = _operations(document)
        assert len(operations) > 25
        public = set()
        for method, path, operation in operations:
            answer = client.request(method, _concrete(path), json={})
            assert answer.status_code < 500, (method, path, answer.text)
            if answer.status_code != 401:
                public.add((method, path))
                assert operation["security"] == [], (method, path)  # stated public
            else:
                assert answer.json()["code"] == 1004
                # The docs' Authorize: a token or a key, each with the same permissions.
                assert [list(r) for r in operation["security"]] == [[s] for s in SCHEMES], (method, path)
                assert len({tuple(r[s]) for r, s in zip(operation["security"], SCHEMES, strict=True)}) == 1
    assert public == PUBLIC
    assert set(document["components"]["securitySchemes"]) == set(SCHEMES)


def test_every_operation_enforces_the_permission_it_declares(sqlite_settings: Settings) -> None:
    """Without the declared permission: 403 / 1003. With exactly it (a defined role's session): past
    the guard. Operations declaring none accept any signed-in caller."""
    with TestClient(create_app(sqlite_settings)) as client:
        document = client.get("/schema/openapi.json").json()
        guarded = 0
        nobody = session_headers(client, "nobody", permissions=frozenset())
        for method, path, operation in _operations(document):
            if not operation["security"]:
                continue
            needed = operation["security"][0][SCHEME]
            url = _concrete(path)
            if needed:
                guarded += 1
                refused = client.request(method, url, json={}, headers=nobody)
                assert (refused.status_code, refused.json()["code"]) == (403, 1003), (method, path)
                assert needed[0] in refused.json()["message"]
                assert f"`{needed[0]}`" in operation["description"]  # told to the reader too
            holder = session_headers(client, "holder", permissions=frozenset(needed))
            allowed = client.request(method, url, json={}, headers=holder)
            assert allowed.status_code not in (401, 403), (method, path, allowed.text)
        assert guarded >= 12
