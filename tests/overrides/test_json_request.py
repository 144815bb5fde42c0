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
