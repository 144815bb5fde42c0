"""The identity slice as kami mounts it: ``/accounts``, its permissions, the service it exports."""

from __future__ import annotations

from collections.abc import Sequence

from kami.accounts.controllers import CONTROLLERS
from kami.accounts.directory import account_directory
from kami.accounts.links import PREFIX
from kami.accounts.mail_jobs import MAIL_JOBS
from kami.accounts.permissions import PERMISSIONS
from kami.app_spec import AppSpec

__all__ = ["ACCOUNTS_APP", "with_accounts"]

ACCOUNTS_APP = AppSpec(
    name="accounts",
    prefix=PREFIX,
    title="Accounts: identity and access",
    description="Registration, login and sessions, recovery by email, roles and permissions, API keys "
    "and the audit trail: the platform's identity provider, shared by every app.",
    code_range=range(0),  # its codes are the platform's (kami.codes)
    route_handlers=list(CONTROLLERS),
    permissions=PERMISSIONS,
    models=["kami.accounts.models"],
    exports={"accounts": account_directory},
    jobs=MAIL_JOBS,
)


def with_accounts(apps: Sequence[AppSpec]) -> list[AppSpec]:
    """What is mounted: the identity slice, then the apps ``KAMI_APPS`` lists (its jobs, permissions and
    codes are everyone's)."""
    return [ACCOUNTS_APP, *apps]
