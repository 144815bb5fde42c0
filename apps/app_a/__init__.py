"""App A: orders and the wallets that pay for them, mounted at ``/app-a``. Orders reserve App B's
stock, so App A needs App B mounted beside it."""

from apps.app_a.codes import CODES
from apps.app_a.controllers import OrderController, WalletController
from apps.app_a.permissions import PERMISSIONS
from kami import AppSpec

__all__ = ["app"]

app = AppSpec(
    name="app-a",
    prefix="/app-a",
    title="App A: orders",
    description="Orders, and the wallet balances that pay for them.",
    code_range=range(10000, 20000),
    codes=CODES,
    route_handlers=[OrderController, WalletController],
    permissions=PERMISSIONS,
    models=["apps.app_a.models"],
    requires=["apps.app_b"],
)
