"""What may be done in the identity slice (named ``accounts:<action>`` when mounted). Operations on
one's own account need only that account's sign-in."""

from kami.security.permissions import Permission

__all__ = ["ACCOUNTS_MANAGE", "ACCOUNTS_READ", "AUDIT_READ", "PERMISSIONS", "ROLES_MANAGE"]

ACCOUNTS_READ = Permission("read", "List and read any account")
ACCOUNTS_MANAGE = Permission(
    "manage", "Deactivate, reactivate and delete accounts; change their role and tier; revoke their keys"
)
ROLES_MANAGE = Permission("roles.manage", "Define, change and remove roles")
AUDIT_READ = Permission("audit.read", "Read the audit trail")
PERMISSIONS = (ACCOUNTS_READ, ACCOUNTS_MANAGE, ROLES_MANAGE, AUDIT_READ)
