"""App A's business codes (10000-19999). Codes once used are never given another meaning: 10002 and
10004-10007 were the identity codes that moved to the platform (1006, 1007, 4010-4012)."""

from kami import BusinessCode

__all__ = ["CODES", "INSUFFICIENT_BALANCE", "ORDER_ALREADY_CANCELLED", "ORDER_CREATION_FAILED"]

ORDER_CREATION_FAILED = BusinessCode(10001, "Order creation failed")
ORDER_ALREADY_CANCELLED = BusinessCode(10003, "Order already cancelled", 409)
INSUFFICIENT_BALANCE = BusinessCode(10008, "Insufficient balance")
CODES = (ORDER_CREATION_FAILED, ORDER_ALREADY_CANCELLED, INSUFFICIENT_BALANCE)
