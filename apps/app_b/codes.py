"""App B's business codes (20000-29999)."""

from kami import BusinessCode

__all__ = ["CODES", "INSUFFICIENT_STOCK", "UNKNOWN_PRODUCT"]

INSUFFICIENT_STOCK = BusinessCode(20001, "Insufficient stock")
UNKNOWN_PRODUCT = BusinessCode(20002, "Unknown product")
CODES = (INSUFFICIENT_STOCK, UNKNOWN_PRODUCT)
