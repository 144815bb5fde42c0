"""App A: accounts, authentication and orders (mounted at ``/app-a``)."""

from litestar import get

from kami import ApiResponse, AppSpec, success


@get("/v1/ping", summary="Ping App A", description="Answers with the app's name; proves mounting.")
async def ping() -> ApiResponse[str]:
    return success("app-a")


app = AppSpec(
    name="app-a", prefix="/app-a", code_range=range(10000, 20000), route_handlers=[ping], title="App A"
)
