"""App A: accounts, sessions, roles and orders, mounted at ``/app-a``."""

from apps.app_a.cli import roles, users
from apps.app_a.codes import CODES
from apps.app_a.controllers import (
    AccountController,
    ApiKeyController,
    AuditController,
    AuthController,
    OrderController,
    RecoveryController,
    RoleController,
    SessionController,
)
from apps.app_a.permissions import PERMISSIONS
from kami import AppSpec

__all__ = ["app"]

app = AppSpec(
    name="app-a",
    prefix="/app-a",
    title="App A: accounts and orders",
    description="Registration, login, profiles, balances and orders.",
    code_range=range(10000, 20000),
    codes=CODES,
    route_handlers=[
        AuthController,
        RecoveryController,
        SessionController,
        AccountController,
        RoleController,
        ApiKeyController,
        AuditController,
        OrderController,
    ],
    permissions=PERMISSIONS,
    models=["apps.app_a.models"],
    commands=[users, roles],
)
