"""What may be done in App A. Each route asks for one of these: a signed-in person holds the
``granted_to_users`` ones through the built-in ``user`` role, an API key only those it was given."""

from kami import Permission

__all__ = [
    "ORDERS_CANCEL",
    "ORDERS_PLACE",
    "ORDERS_READ",
    "ORDERS_READ_ANY",
    "PERMISSIONS",
    "WALLETS_CREDIT",
    "WALLET_READ",
]

ORDERS_PLACE = Permission("orders.place", "Place orders", granted_to_users=True)
ORDERS_READ = Permission("orders.read", "Read one's own orders", granted_to_users=True)
ORDERS_CANCEL = Permission("orders.cancel", "Cancel one's own orders", granted_to_users=True)
ORDERS_READ_ANY = Permission("orders.read-any", "Read and cancel anybody's orders")
WALLET_READ = Permission("wallet.read", "Read one's own wallet", granted_to_users=True)
WALLETS_CREDIT = Permission("wallets.credit", "Add money to an account's wallet")
PERMISSIONS = (ORDERS_PLACE, ORDERS_READ, ORDERS_CANCEL, ORDERS_READ_ANY, WALLET_READ, WALLETS_CREDIT)
