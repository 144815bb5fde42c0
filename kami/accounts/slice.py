"""The identity slice as kami mounts it: ``/accounts``, its permissions, the service it exports."""

from __future__ import annotations

from kami.accounts.controllers import CONTROLLERS
from kami.accounts.directory import account_directory
from kami.accounts.permissions import PERMISSIONS
from kami.app_spec import AppSpec

__all__ = ["ACCOUNTS_APP"]

ACCOUNTS_APP = AppSpec(
    name="accounts",
    prefix="/accounts",
    title="Accounts: identity and access",
    description="Registration, login and sessions, recovery by email, roles and permissions, API keys "
    "and the audit trail: the platform's identity provider, shared by every app.",
    code_range=range(0),  # its codes are the platform's (kami.codes)
    route_handlers=list(CONTROLLERS),
    permissions=PERMISSIONS,
    models=["kami.accounts.models"],
    exports={"accounts": account_directory},
)
