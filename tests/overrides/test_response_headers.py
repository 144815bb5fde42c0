"""kami.overrides.response_headers: Litestar's header setter still walks every header for each one."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders

from kami.overrides.response_headers import set_response_headers


class _CountingList(list[Any]):
    visits = 0

    def __iter__(self) -> Any:
        _CountingList.visits += 1
        return super().__iter__()


def test_tripwire_litestar_rescans_the_headers_for_every_header_it_sets() -> None:
    """If this fails, setting k headers through Litestar no longer costs k passes over the list:
    kami's one-pass helper can go."""
    headers = _CountingList([(f"x-{n}".encode(), b"v") for n in range(20)])
    message: Any = {"type": "http.response.start", "status": 200, "headers": headers}
    _CountingList.visits = 0
    mutable = MutableScopeHeaders(message)
    for name in ("a", "b", "c", "d", "e"):
        mutable[name] = "1"
    assert _CountingList.visits >= 5


def test_kami_sets_them_in_one_pass_replacing_old_values() -> None:
    message: Any = {"type": "http.response.start", "status": 200, "headers": [(b"x-trace-id", b"old")]}
    set_response_headers(message, [(b"x-trace-id", b"new"), (b"x-request-id", b"r")])
    assert message["headers"] == [(b"x-trace-id", b"new"), (b"x-request-id", b"r")]
