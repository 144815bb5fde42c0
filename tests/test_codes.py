from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.exceptions import HTTPException
from litestar.testing import TestClient

from kami.codes import CodeClashError, CodeRegistry, Codes, code_for_status, registry
from kami.pipeline.app import create_app
from kami.pipeline.exception_handlers import to_envelope_response
from kami.settings import Settings

SEED = {
    0: "Success",
    1001: "Login failed",
    1002: "Token expired",
    1003: "Insufficient permissions",
    3001: "Invalid input",
    3002: "Missing required field",
    4001: "Resource not found",
    4002: "Resource already exists",
    4003: "Resource conflict",
    5001: "Database error",
    5002: "External service error",
    9000: "Unknown error",
}


def test_seed_codes_are_registered_exactly() -> None:
    for code, message in SEED.items():
        entry = registry.get(code)
        assert entry is not None, code
        assert entry.message == message


def test_the_platform_table_holds_platform_codes_only() -> None:
    """The order codes are App A's, in App A's range; the platform's failures of business rules have
    the platform's generic 2000."""
    from apps.app_a.codes import INSUFFICIENT_BALANCE, ORDER_CREATION_FAILED

    assert all(entry.owner == "kami" and entry.code < 10000 for entry in registry.platform_only())
    assert [c.code for c in registry.platform_only() if 2000 <= c.code < 3000] == [Codes.BUSINESS_RULE.code]
    assert (ORDER_CREATION_FAILED.code, ORDER_CREATION_FAILED.message) == (10001, "Order creation failed")
    assert (INSUFFICIENT_BALANCE.code, INSUFFICIENT_BALANCE.message) == (10008, "Insufficient balance")


def test_platform_codes_lie_in_their_ranges() -> None:
    ranges = {
        1: (Codes.UNAUTHENTICATED,),
        3: (Codes.MALFORMED_REQUEST, Codes.PAYLOAD_TOO_LARGE),
        4: (Codes.ENDPOINT_NOT_FOUND, Codes.METHOD_NOT_ALLOWED, Codes.TOO_MANY_REQUESTS),
        5: (Codes.CACHE_UNAVAILABLE,),
    }
    for thousand, codes in ranges.items():
        for code in codes:
            assert code.code // 1000 == thousand, code


def test_app_ranges_may_not_overlap() -> None:
    codes = CodeRegistry()
    codes.reserve("app-a", range(10000, 20000))
    with pytest.raises(CodeClashError, match="overlaps app-a"):
        codes.reserve("app-x", range(19000, 21000))
    with pytest.raises(CodeClashError, match="platform"):
        codes.reserve("app-y", range(9000, 10001))


def test_app_codes_must_stay_in_range_and_be_unique() -> None:
    codes = CodeRegistry()
    codes.reserve("app-a", range(10000, 20000))
    codes.register(10001, "Thing failed", owner="app-a")
    with pytest.raises(CodeClashError, match="outside"):
        codes.register(20001, "Not mine", owner="app-a")
    with pytest.raises(CodeClashError, match="already registered"):
        codes.register(10001, "Different meaning", owner="app-a")


def test_one_table_maps_a_bare_http_status_to_its_code() -> None:
    """The exception handlers and the OpenAPI document read the same table (kami.codes)."""
    for status in (400, 401, 403, 404, 405, 409, 413, 422, 429, 431, 500, 502, 503):
        response = to_envelope_response(HTTPException(status_code=status))
        assert (response.status_code, response.content.code) == (status, code_for_status(status).code)
        assert code_for_status(status).http_status == status
    assert code_for_status(431) is Codes.HEADERS_TOO_LARGE  # not 413's code


def test_every_code_means_one_thing() -> None:
    messages = [entry.message for entry in registry]
    assert len(messages) == len(set(messages))


def test_every_documented_error_code_is_answered_with_its_documented_status(
    make_settings: Callable[..., Settings],
) -> None:
    with TestClient(create_app(make_settings())) as client:
        document = client.get("/schema/openapi.json").json()
    known = {entry.code: entry for entry in registry}
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2") and status != "200":
                    continue
                examples: dict[str, Any] = (
                    response.get("content", {}).get("application/json", {}).get("examples", {})
                )
                for example in examples.values():
                    value = example["value"]
                    if not isinstance(value, dict) or value.get("code") in (None, 0):
                        continue
                    entry = known[value["code"]]
                    assert entry.http_status == int(status), (method, path, status, entry)
                    assert value["message"] == entry.message
                    checked += 1
    assert checked > 100
