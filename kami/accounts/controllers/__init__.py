"""The identity slice's HTTP surface under ``/accounts``: parse, call a service, wrap in the envelope."""

from kami.accounts.controllers.audit import AuditController
from kami.accounts.controllers.auth import AuthController, RecoveryController
from kami.accounts.controllers.keys import ApiKeyController
from kami.accounts.controllers.pages import ResetPage
from kami.accounts.controllers.roles import RoleController
from kami.accounts.controllers.sessions import SessionController
from kami.accounts.controllers.users import AccountController

__all__ = ["CONTROLLERS"]

CONTROLLERS = (
    AuthController,
    RecoveryController,
    SessionController,
    AccountController,
    RoleController,
    ApiKeyController,
    AuditController,
    ResetPage,
)
