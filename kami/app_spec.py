"""The app model: what an application declares, and how kami mounts it under its prefix.

An application is a package under ``apps/`` whose ``app`` attribute is an :class:`AppSpec`. Listing its
module in ``KAMI_APPS`` mounts it; removing it unmounts it. Nothing in ``kami/`` names an application.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Router
from litestar.di import NamedDependency, Provide
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.types import ControllerRouterHandler, Guard, Middleware
from sqlalchemy.ext.asyncio import AsyncSession

from kami.codes import BusinessCode, CodeRegistry
from kami.codes import registry as code_registry
from kami.db.config import APPS_PACKAGE, build_sqlalchemy_config, migrations_path
from kami.observability.slo import ServiceLevel
from kami.routes import APP_KEY, RateLimit
from kami.runtime import runtime_of
from kami.security.api_keys import ApiKeys
from kami.security.permissions import Permission, PermissionCatalog
from kami.security.sessions import LoginSessions
from kami.settings import get_settings
from kami.store.client import build_backend
from kami.store.namespace import Store

__all__ = [
    "AccountAccess",
    "AppLoadError",
    "AppSpec",
    "ServiceFactory",
    "exported_services",
    "import_every_app",
    "load_apps",
    "mount",
    "offline_access",
    "permission_catalog",
    "register_codes",
]

ServiceFactory = Callable[[AsyncSession, Store], Any]
"""Builds a service another app may use: from the request's session and the exporting app's store."""


@dataclass(frozen=True)
class AppSpec:
    """Everything kami needs to know to mount one application.

    ``codes`` must lie in ``code_range`` (App A 10000-19999, App B 20000-29999, ...); ``models`` lists
    the modules that define its tables so that migrations see them even before a route is imported.
    ``exports`` names the services other apps (and its own routes) receive by dependency injection:
    ``{"products": product_service}`` gives every handler a ``products`` dependency built by
    ``product_service(session, store)`` with *this* app's store, whoever asks.
    """

    name: str
    prefix: str
    code_range: range
    route_handlers: Sequence[ControllerRouterHandler]
    title: str = ""
    description: str = ""
    codes: Sequence[BusinessCode] = ()
    models: Sequence[str] = ()
    dependencies: Mapping[str, Provide] = field(default_factory=dict)
    middleware: Sequence[Middleware] = ()
    guards: Sequence[Guard] = ()
    rate_limit: RateLimit | None = None  # every route of the app shares one window per caller
    commands: Sequence[Any] = ()  # click commands/groups added to the ``kami`` command
    jobs: Sequence[Any] = ()  # kami.jobs.JobSpec: background work run by ``kami worker``
    exports: Mapping[str, ServiceFactory] = field(default_factory=dict)
    sessions: bool = False  # server-side cookie sessions (``request.session``) in the shared store
    session_max_age: int = 14 * 86400
    slo: ServiceLevel = field(default_factory=ServiceLevel)  # alerts: infra/observability/slo-alerts.yaml
    permissions: Sequence[Permission] = ()  # what its guards may ask for (kami.security.require)

    @property
    def session_store(self) -> str:
        return f"{self.name}-sessions"

    @property
    def tag(self) -> str:
        return self.title or self.name


class AppLoadError(RuntimeError):
    """An application listed in ``KAMI_APPS`` cannot be imported or does not export an ``AppSpec``."""


def load_apps(modules: Sequence[str]) -> list[AppSpec]:
    specs: list[AppSpec] = []
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise AppLoadError(f"KAMI_APPS: cannot import {module_name!r} ({exc})") from exc
        spec = getattr(module, "app", None)
        if not isinstance(spec, AppSpec):
            raise AppLoadError(f"KAMI_APPS: {module_name!r} has no `app = AppSpec(...)`")
        slo_problems = spec.slo.problems()
        if slo_problems:
            raise AppLoadError(f"{module_name}: AppSpec.slo: {'; '.join(slo_problems)}")
        for models in spec.models:
            importlib.import_module(models)
        specs.append(spec)
    names = [s.name for s in specs]
    prefixes = [s.prefix for s in specs]
    if len(set(names)) != len(names) or len(set(prefixes)) != len(prefixes):
        raise AppLoadError(
            f"KAMI_APPS: two apps share a name or prefix: {list(zip(names, prefixes, strict=True))}"
        )
    exported_services(specs)  # two apps exporting one name is a startup error
    return specs


def import_every_app() -> list[AppSpec]:
    """Load every app package beside the migration history, mounted or not: the one history covers
    them all, so autogenerate must never mistake an unmounted app's tables for tables to drop."""
    root = migrations_path().parent
    names = sorted(p.parent.name for p in root.glob("*/__init__.py") if p.parent.name != "migrations")
    importlib.invalidate_caches()
    return load_apps([f"{APPS_PACKAGE}.{name}" for name in names])


def exported_services(specs: Sequence[AppSpec]) -> dict[str, Provide]:
    """One dependency per exported service, each built with its exporting app's store."""
    providers: dict[str, Provide] = {}
    owners: dict[str, str] = {}
    for spec in specs:
        for name, factory in spec.exports.items():
            if name in owners:
                raise AppLoadError(f"{spec.name} and {owners[name]} both export a service named {name!r}")
            owners[name] = spec.name
            providers[name] = Provide(_provider(spec.name, factory))
    return providers


def _provider(owner: str, factory: ServiceFactory) -> Callable[..., Any]:
    async def provide(db_session: NamedDependency[AsyncSession], request: Request[Any, Any, Any]) -> Any:
        return factory(db_session, Store(runtime_of(request.app).backend, owner))

    return provide


def permission_catalog(specs: Sequence[AppSpec]) -> PermissionCatalog:
    """What the apps declare, each permission named after the app that lists it."""
    return PermissionCatalog((spec.name, p) for spec in specs for p in spec.permissions)


def register_codes(spec: AppSpec, registry: CodeRegistry = code_registry) -> None:
    """Reserve the app's code range and register its codes (a clash is a startup error)."""
    registry.reserve(spec.name, spec.code_range)
    for code in spec.codes:
        registry.register(code.code, code.message, code.http_status, owner=spec.name)


def mount(
    spec: AppSpec, platform_layers: Sequence[Middleware] = (), registry: CodeRegistry = code_registry
) -> Router:
    """Register the app's codes and build its router (one OpenAPI tag). ``platform_layers``: kami's
    middleware for app routes (:func:`kami.pipeline.order.app_route_middleware`), outermost."""
    register_codes(spec, registry)
    middleware = list(spec.middleware)
    if spec.sessions:
        middleware.insert(
            0,
            ServerSideSessionConfig(
                store=spec.session_store,
                key=f"{spec.name}-session",
                path=spec.prefix,
                max_age=spec.session_max_age,
                secure=False,
                httponly=True,
                samesite="lax",
            ).middleware,
        )
    return Router(
        path=spec.prefix,
        route_handlers=list(spec.route_handlers),
        tags=[spec.tag],
        dependencies=dict(spec.dependencies),
        middleware=[*platform_layers, *middleware],
        guards=list(spec.guards),
        opt={APP_KEY: spec.name},
    )


@dataclass(frozen=True)
class AccountAccess:
    """What changing an account's access needs outside a server: the login sessions, in the store the
    servers use, and what the mounted apps declare."""

    sessions: LoginSessions
    permissions: PermissionCatalog
    api_keys: ApiKeys


@asynccontextmanager
async def offline_access() -> AsyncIterator[AccountAccess]:
    """For the command line: the configured store's sessions and the ``KAMI_APPS`` permissions. With the
    embedded in-memory store the sessions are the server process's own and out of reach: changes then
    apply to sessions opened afterwards (each new login reads the account)."""
    settings = get_settings()
    backend = build_backend(settings)
    specs = load_apps(settings.app.apps)
    database = build_sqlalchemy_config(settings)
    try:
        yield AccountAccess(
            LoginSessions(backend, settings.security.refresh_token_seconds),
            permission_catalog(specs),
            ApiKeys(backend, database.get_session),
        )
    finally:
        await backend.close()
        await database.get_engine().dispose()
