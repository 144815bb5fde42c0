"""kami.overrides.json_request: bodies Litestar's own request answers 500 to are a client error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar, post
from litestar.params import JSONBody
from litestar.testing import TestClient

from kami.settings import Settings

BAD_BODIES = {"invalid UTF-8": b'{"name": "\xff\xfe"}', "nested too deeply": b"[" * 100_000 + b"]" * 100_000}


@post("/echo")
async def echo(data: JSONBody[Any]) -> Any:
    return data


def test_tripwire_plain_litestar_answers_500() -> None:
    """If this fails, Litestar answers these bodies as a client error by itself: delete the override."""
    with TestClient(Litestar([echo]), raise_server_exceptions=False) as client:
        for name, body in BAD_BODIES.items():
            answer = client.post("/echo", content=body, headers={"content-type": "application/json"})
            assert answer.status_code == 500, (name, answer.status_code)


def test_kami_answers_400_3003(make_settings: Callable[..., Settings]) -> None:
    from kami.pipeline.app import create_app

    with TestClient(create_app(make_settings()), raise_server_exceptions=False) as client:
        for name, body in BAD_BODIES.items():
            answer = client.post(
                "/accounts/v1/users", content=body, headers={"content-type": "application/json"}
            )
            assert (answer.status_code, answer.json()["code"]) == (400, 3003), name


def test_tripwire_plain_litestar_parses_any_media_type_as_json() -> None:
    """If this fails, Litestar refuses a JSON body that does not say it is JSON: the check can go."""
    with TestClient(Litestar([echo]), raise_server_exceptions=False) as client:
        answer = client.post("/echo", content=b'{"a": 1}', headers={"content-type": "text/plain"})
        assert (answer.status_code, answer.json()) == (201, {"a": 1})


def test_kami_answers_415_to_a_body_that_is_not_said_to_be_json(
    make_settings: Callable[..., Settings],
) -> None:
    """A browser posts text/plain cross-site without a CORS preflight: a JSON route refuses it."""
    from kami.pipeline.app import create_app

    body = b'{"email": "ada@example.com", "username": "ada", "password": "correct horse"}'
    with TestClient(create_app(make_settings()), raise_server_exceptions=False) as client:
        for media in (
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
        ):
            answer = client.post("/accounts/v1/users", content=body, headers={"content-type": media})
            assert (answer.status_code, answer.json()["code"]) == (415, 3007), media
        for media in ("application/json", "application/json; charset=utf-8", "application/merge-patch+json"):
            answer = client.post("/accounts/v1/users", content=body, headers={"content-type": media})
            assert answer.status_code in (201, 409), (media, answer.text)
        assert client.get("/accounts/v1/users").status_code == 401  # no body: nothing to check
