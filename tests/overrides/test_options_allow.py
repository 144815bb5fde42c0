"""kami.overrides.options_allow: what Litestar 2 answers, and what kami answers instead."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar, get, patch
from litestar.testing import TestClient

from kami.settings import Settings


@get("/thing")
async def read() -> str:
    return "read"


@patch("/thing")
async def write() -> str:
    return "written"


def test_tripwire_plain_litestar_lists_one_controllers_methods() -> None:
    """If this fails, Litestar lists every method of a shared path by itself (litestar#4169, fixed in
    Litestar 3): kami.overrides.options_allow then only has to add HEAD (kami.pipeline.head)."""
    with TestClient(Litestar([read, write])) as client:
        allowed = set(client.options("/thing").headers["allow"].replace(" ", "").split(","))
    assert allowed != {"GET", "OPTIONS", "PATCH"}


def test_kami_lists_every_method_of_a_path(make_settings: Callable[..., Settings]) -> None:
    from kami.pipeline.app import create_app

    with TestClient(create_app(make_settings())) as client:
        allowed = client.options("/accounts/v1/users").headers["allow"]
    assert set(allowed.replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS", "POST"}
