"""App A's business codes (10000-19999)."""

from kami import BusinessCode

__all__ = ["CODES", "REFRESH_TOKEN_REUSED"]

OWNER = "app-a"
REFRESH_TOKEN_REUSED = BusinessCode(10002, "Refresh token already used", 401, owner=OWNER)
CODES = (REFRESH_TOKEN_REUSED,)
