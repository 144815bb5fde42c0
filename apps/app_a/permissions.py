"""What may be done in App A. Signing in is enough for one's own account, sessions and orders."""

from kami import Permission

__all__ = [
    "ACCOUNTS_CREDIT",
    "ACCOUNTS_MANAGE",
    "ACCOUNTS_READ",
    "AUDIT_READ",
    "ORDERS_PLACE",
    "ORDERS_READ_ANY",
    "PERMISSIONS",
    "ROLES_MANAGE",
]

ACCOUNTS_READ = Permission("accounts.read", "List and read any account")
ACCOUNTS_CREDIT = Permission("accounts.credit", "Add money to an account's balance")
ACCOUNTS_MANAGE = Permission(
    "accounts.manage", "Deactivate, reactivate and delete accounts; change their role and tier"
)
ROLES_MANAGE = Permission("roles.manage", "Define, change and remove roles")
ORDERS_PLACE = Permission("orders.place", "Place orders", granted_to_users=True)
ORDERS_READ_ANY = Permission("orders.read-any", "Read and cancel anybody's orders")
AUDIT_READ = Permission("audit.read", "Read the audit trail")
PERMISSIONS = (
    ACCOUNTS_READ,
    ACCOUNTS_CREDIT,
    ACCOUNTS_MANAGE,
    ROLES_MANAGE,
    ORDERS_PLACE,
    ORDERS_READ_ANY,
    AUDIT_READ,
)
