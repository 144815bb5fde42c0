"""App B: catalogue and inventory, mounted at ``/app-b``."""

from apps.app_b.codes import CODES
from apps.app_b.controllers import InventoryController, ProductController, ReportController
from apps.app_b.jobs import JOBS
from apps.app_b.permissions import PERMISSIONS
from apps.app_b.services import product_service
from kami import AppSpec

__all__ = ["app"]

app = AppSpec(
    name="app-b",
    prefix="/app-b",
    title="App B: catalogue",
    description="Products, prices and stock.",
    code_range=range(20000, 30000),
    codes=CODES,
    route_handlers=[ProductController, InventoryController, ReportController],
    jobs=JOBS,
    exports={"products": product_service},
    models=["apps.app_b.models"],
    permissions=PERMISSIONS,
)
