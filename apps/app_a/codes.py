"""App A's business codes (10000-19999)."""

from kami import BusinessCode

__all__ = ["CODES", "REFRESH_TOKEN_REUSED"]

REFRESH_TOKEN_REUSED = BusinessCode(10002, "Refresh token already used", 401)
CODES = (REFRESH_TOKEN_REUSED,)
