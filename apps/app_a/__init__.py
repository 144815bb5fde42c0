"""App A: accounts, authentication and orders, mounted at ``/app-a``."""

from apps.app_a.cli import users
from apps.app_a.codes import CODES
from apps.app_a.controllers import AccountController, AuthController, OrderController
from kami import AppSpec

__all__ = ["app"]

app = AppSpec(
    name="app-a",
    prefix="/app-a",
    title="App A: accounts and orders",
    description="Registration, login, profiles, balances and orders.",
    code_range=range(10000, 20000),
    codes=CODES,
    route_handlers=[AuthController, AccountController, OrderController],
    models=["apps.app_a.models"],
    commands=[users],
)
