"""The authorization walk: every operation of the OpenAPI document is called the way its declared
requirement says it must be — without credentials, with a session and with an API key that lack the
permission it names, with exactly that permission, and with a key whose maker lost it — and answers
accordingly. A route that forgot its guard, a document that states another requirement than the route
enforces, or a credential that reaches more than it lists, fails here."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar.testing import TestClient

from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.support.shop import Shop
from tests.support.tokens import session_headers

SCHEME = "bearerToken"
SCHEMES = [SCHEME, "apiKey"]  # either will do where a permission is asked
# (method, path template) that anyone may call; everything else must answer 401 without a token.
PUBLIC = {
    ("GET", "/"),
    ("GET", "/health"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),  # development only: production serves it on its own port
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


def _answer(response: Any) -> tuple[int, int]:
    return response.status_code, response.json()["code"]


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
                continue
            assert answer.json()["code"] == 1004
            schemes = [list(requirement) for requirement in operation["security"]]
            if "API key cannot" in operation["description"]:  # the account itself: a person's token
                assert operation["security"] == [{SCHEME: []}], (method, path)
            else:  # the docs' Authorize: a token or a key, each with the same permission
                assert schemes == [[s] for s in SCHEMES], (method, path)
                roles = {tuple(r[s]) for r, s in zip(operation["security"], SCHEMES, strict=True)}
                assert len(roles) == 1
                assert next(iter(roles)), (method, path)  # and never "signed in is enough"
    assert public == PUBLIC
    assert set(document["components"]["securitySchemes"]) == set(SCHEMES)


def test_every_operation_enforces_exactly_what_it_declares(sqlite_settings: Settings) -> None:
    """Without the declared permission, a session and a key alike: 403 / 1003. With exactly it: past
    the guard. A key whose maker no longer holds its permission: 403 / 1003. An operation on the
    account itself: 403 / 1008 for every key, whatever it holds."""
    with TestClient(create_app(sqlite_settings)) as client:
        shop = Shop(client, session_headers(client, "admin"))
        document = client.get("/schema/openapi.json").json()
        guarded = [(m, p, op) for m, p, op in _operations(document) if op["security"]]
        declared = sorted({name for _, _, op in guarded for name in op["security"][0][SCHEME]})
        # A person holding every declared permission (a defined role), who makes one key per operation.
        everything = {"permissions": declared, "description": "The walk"}
        assert client.put("/accounts/v1/roles/walker", json=everything, headers=shop.admin).status_code == 200
        account, maker = shop.user("walker")
        shop.verify("walker")
        client.patch(f"/accounts/v1/users/{account['id']}", json={"role": "walker"}, headers=shop.admin)

        def key(*permissions: str) -> dict[str, str]:
            made = client.post(
                "/accounts/v1/api-keys",
                json={"name": "walk", "permissions": list(permissions)},
                headers=maker,
            )
            assert made.status_code == 201, made.text
            return {"X-API-Key": made.json()["data"]["key"]}

        nobody, empty_key = session_headers(client, "nobody", permissions=frozenset()), key()
        keys = {name: key(name) for name in declared}
        checked = 0
        for method, path, operation in guarded:
            needed = operation["security"][0][SCHEME]
            url = _concrete(path)
            if not needed:  # the account itself
                for credential in (empty_key, *keys.values()):
                    assert _answer(client.request(method, url, json={}, headers=credential)) == (403, 1008), (
                        path
                    )
                continue
            checked += 1
            for lacking in (nobody, empty_key):
                refused = client.request(method, url, json={}, headers=lacking)
                assert _answer(refused) == (403, 1003), (method, path, refused.text)
                assert needed[0] in refused.json()["message"]
            assert f"`{needed[0]}`" in operation["description"]  # told to the reader too
            holder = session_headers(client, "holder", permissions=frozenset(needed))
            allowed = client.request(method, url, json={}, headers=holder)
            assert allowed.status_code not in (401, 403), (method, path, allowed.text)
            by_key = client.request(method, url, json={}, headers=keys[needed[0]])
            assert by_key.status_code not in (401, 403), (method, path, by_key.text)
        assert checked >= 15

        # The maker is demoted: every key is what its maker holds now, at once.
        roles = client.get("/accounts/v1/roles", headers=shop.admin).json()["data"]
        kept = set(next(role["permissions"] for role in roles if role["name"] == "user"))
        client.patch(f"/accounts/v1/users/{account['id']}", json={"role": "user"}, headers=shop.admin)
        for method, path, operation in guarded:
            needed = operation["security"][0][SCHEME]
            if needed and not set(needed) <= kept:
                demoted = client.request(method, _concrete(path), json={}, headers=keys[needed[0]])
                assert _answer(demoted) == (403, 1003), (method, path, demoted.text)
