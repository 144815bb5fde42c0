from __future__ import annotations

import pytest

from kami.codes import CodeClashError, CodeRegistry, Codes, registry

SEED = {
    0: "Success",
    1001: "Login failed",
    1002: "Token expired",
    1003: "Insufficient permissions",
    2001: "Order creation failed",
    2002: "Payment failed",
    2003: "Insufficient balance",
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
