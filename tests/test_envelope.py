from __future__ import annotations

import msgspec

from kami.codes import Codes
from kami.envelope import Page, error, success


def test_success_shape() -> None:
    body = msgspec.json.decode(msgspec.json.encode(success({"a": 1})))
    assert body["code"] == 0
    assert body["message"] == "Success"
    assert body["data"] == {"a": 1}
    assert len(body["trace_id"]) == 32
    assert body["timestamp"].endswith("Z")


def test_error_uses_the_code_message() -> None:
    body = error(Codes.CONFLICT)
    assert (body.code, body.message, body.data) == (4003, "Resource conflict", None)
    assert error(Codes.CONFLICT, "stale version").message == "stale version"


def test_paginated_counts_pages() -> None:
    page = Page.of([1, 2], total=41, page=3, page_size=20)
    assert page is not None
    assert (page.total, page.page, page.page_size, page.total_pages) == (41, 3, 20, 3)
    empty = Page.of([], total=0, page=1, page_size=20)
    assert empty is not None
    assert empty.total_pages == 0
