"""App A's business codes (10000-19999)."""

from kami import BusinessCode

__all__ = ["CODES", "ORDER_ALREADY_CANCELLED", "REFRESH_TOKEN_REUSED"]

REFRESH_TOKEN_REUSED = BusinessCode(10002, "Refresh token already used", 401)
ORDER_ALREADY_CANCELLED = BusinessCode(10003, "Order already cancelled", 409)
CODES = (REFRESH_TOKEN_REUSED, ORDER_ALREADY_CANCELLED)
