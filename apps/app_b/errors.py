"""The failures App B's services raise that other apps may catch, by type."""

from __future__ import annotations

from apps.app_b.codes import INSUFFICIENT_STOCK, UNKNOWN_PRODUCT
from kami import BusinessError

__all__ = ["InsufficientStockError", "UnknownProductError"]


class InsufficientStockError(BusinessError):
    """Fewer units are left than asked for; ``data`` names the product and what is available."""

    default = INSUFFICIENT_STOCK


class UnknownProductError(BusinessError):
    """No product has this id; ``data`` names it."""

    default = UNKNOWN_PRODUCT
