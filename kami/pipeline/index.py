"""``GET /``: what this service is and where to go next; ``/docs`` and ``/redoc`` lead to the API docs.

The first request a person sends is usually ``/`` in a browser; it answers the envelope with the
service's name and version, the mounted apps with their prefixes, and the paths of the docs and the
health probes, instead of "unknown endpoint".
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version

import msgspec
from litestar import Controller, get
from litestar.response import Redirect

from kami.envelope import ApiResponse, success
from kami.pipeline.runtime import RuntimeDependency, runtime_from
from kami.routes import DOCS_PATH, HEALTH_PATH, PLATFORM_TAG

__all__ = ["IndexController", "ServiceIndex"]


class MountedApp(msgspec.Struct, kw_only=True):
    name: str
    title: str
    prefix: str


class DocsPaths(msgspec.Struct, kw_only=True):
    openapi: str = f"{DOCS_PATH}/openapi.json"
    swagger: str = f"{DOCS_PATH}/swagger"
    redoc: str = f"{DOCS_PATH}/redoc"
    scalar: str = f"{DOCS_PATH}/scalar"


class ServiceIndex(msgspec.Struct, kw_only=True):
    service: str
    version: str
    apps: list[MountedApp]
    docs: DocsPaths
    health: str = HEALTH_PATH


@cache
def _version() -> str:
    try:
        return version("kami")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class IndexController(Controller):
    path = "/"
    tags = [PLATFORM_TAG]

    @get("/", summary="Service index", description="The service, its mounted apps and where the docs are.")
    async def index(self, kami_runtime: RuntimeDependency) -> ApiResponse[ServiceIndex]:
        runtime = runtime_from(kami_runtime)
        apps = [MountedApp(name=s.name, title=s.title or s.name, prefix=s.prefix) for s in runtime.apps]
        index = ServiceIndex(
            service=runtime.settings.app.name, version=_version(), apps=apps, docs=DocsPaths()
        )
        return success(index)

    @get("/docs", include_in_schema=False)
    async def docs(self) -> Redirect:
        return Redirect(path=DOCS_PATH)

    @get("/redoc", include_in_schema=False)
    async def redoc(self) -> Redirect:
        return Redirect(path=DocsPaths().redoc)
