"""What may be done in App B, beyond reading the catalogue (which anyone may)."""

from kami import Permission

__all__ = ["PERMISSIONS", "PRODUCTS_WRITE", "REPORTS_RUN", "STOCK_WRITE"]

PRODUCTS_WRITE = Permission("products.write", "Create, change and delete products")
STOCK_WRITE = Permission("stock.write", "Set a product's stock")
REPORTS_RUN = Permission("reports.run", "Queue and read the low-stock report")
PERMISSIONS = (PRODUCTS_WRITE, STOCK_WRITE, REPORTS_RUN)
