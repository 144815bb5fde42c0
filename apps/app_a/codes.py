"""App A's business codes (10000-19999)."""

from kami import BusinessCode

__all__ = ["CODES", "ORDER_NOT_CANCELLABLE", "REFRESH_TOKEN_REUSED"]

OWNER = "app-a"
ORDER_NOT_CANCELLABLE = BusinessCode(10001, "Order already cancelled", 409, owner=OWNER)
REFRESH_TOKEN_REUSED = BusinessCode(10002, "Refresh token already used", 401, owner=OWNER)
CODES = (ORDER_NOT_CANCELLABLE, REFRESH_TOKEN_REUSED)
