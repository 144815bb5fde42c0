"""App B: catalogue and inventory (mounted at ``/app-b``)."""

from litestar import get

from kami import ApiResponse, AppSpec, success


@get("/v1/ping", summary="Ping App B", description="Answers with the app's name; proves mounting.")
async def ping() -> ApiResponse[str]:
    return success("app-b")


app = AppSpec(
    name="app-b", prefix="/app-b", code_range=range(20000, 30000), route_handlers=[ping], title="App B"
)
