"""App A's business codes (10000-19999)."""

from kami import BusinessCode

__all__ = [
    "ACCOUNT_DISABLED",
    "CODES",
    "LINK_NOT_VALID",
    "ORDER_ALREADY_CANCELLED",
    "REFRESH_TOKEN_REUSED",
    "ROLE_BUILT_IN",
    "ROLE_IN_USE",
]

REFRESH_TOKEN_REUSED = BusinessCode(
    10002, "Refresh token already used: its session has ended, log in again", 401
)
ORDER_ALREADY_CANCELLED = BusinessCode(10003, "Order already cancelled", 409)
ACCOUNT_DISABLED = BusinessCode(10004, "This account is deactivated", 403)
ROLE_BUILT_IN = BusinessCode(10005, "The built-in roles 'user' and 'admin' cannot be changed", 409)
ROLE_IN_USE = BusinessCode(10006, "Accounts still hold this role: give them another one first", 409)
LINK_NOT_VALID = BusinessCode(
    10007, "This link is not valid: it was used, it expired, or it was never sent", 404
)
CODES = (
    REFRESH_TOKEN_REUSED,
    ORDER_ALREADY_CANCELLED,
    ACCOUNT_DISABLED,
    ROLE_BUILT_IN,
    ROLE_IN_USE,
    LINK_NOT_VALID,
)
