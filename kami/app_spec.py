"""The app model: what an application declares, and how kami mounts it under its prefix.

An application is a package under ``apps/`` whose ``app`` attribute is an :class:`AppSpec`. Listing its
module in ``KAMI_APPS`` mounts it; removing it unmounts it. Nothing in ``kami/`` names an application.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar import Router
from litestar.di import NamedDependency, Provide
from litestar.types import ControllerRouterHandler, Guard, Middleware
from sqlalchemy.ext.asyncio import AsyncSession

from kami.codes import BusinessCode, CodeRegistry
from kami.codes import registry as code_registry
from kami.db.config import APPS_PACKAGE, migrations_path
from kami.observability.slo import ServiceLevel
from kami.routes import APP_KEY, RateLimit
from kami.security.permissions import Permission, PermissionCatalog
from kami.store.backend import Backend
from kami.store.namespace import Store

__all__ = [
    "AppLoadError",
    "AppSpec",
    "ServiceFactory",
    "exported_services",
    "import_every_app",
    "load_apps",
    "mount",
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
    ``product_service(session, store)`` with *this* app's store, whoever asks. ``requires`` lists the
    app packages it cannot work without (App A's orders reserve App B's stock): mounting it without
    them stops start-up naming what is missing.
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
    slo: ServiceLevel = field(default_factory=ServiceLevel)  # alerts: infra/observability/slo-alerts.yaml
    permissions: Sequence[Permission] = ()  # what its guards may ask for (kami.security.require)
    requires: Sequence[str] = ()  # app packages it needs mounted beside it (``apps.app_b``)

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
    for module_name, spec in zip(modules, specs, strict=True):
        missing = [needed for needed in spec.requires if needed not in modules]
        if missing:
            raise AppLoadError(
                f"KAMI_APPS: {module_name} needs {', '.join(missing)} mounted beside it; add "
                f"{'it' if len(missing) == 1 else 'them'} to KAMI_APPS"
            )
    names = [s.name for s in specs]
    prefixes = [s.prefix for s in specs]
    if len(set(names)) != len(names) or len(set(prefixes)) != len(prefixes):
        raise AppLoadError(
            f"KAMI_APPS: two apps share a name or prefix: {list(zip(names, prefixes, strict=True))}"
        )
    exported_services(specs, None)  # two apps exporting one name is a startup error
    return specs


PLATFORM_MODELS = ("kami.accounts.models",)  # the identity slice's tables (kami.accounts.slice)


def import_every_app() -> list[AppSpec]:
    """Load every app package beside the migration history, mounted or not, and the platform's own
    tables: the one history covers them all, so autogenerate must never mistake an unmounted app's
    tables for tables to drop (nor an app's foreign key to an account for a missing table)."""
    for models in PLATFORM_MODELS:
        importlib.import_module(models)
    root = migrations_path().parent
    names = sorted(p.parent.name for p in root.glob("*/__init__.py") if p.parent.name != "migrations")
    importlib.invalidate_caches()
    return load_apps([f"{APPS_PACKAGE}.{name}" for name in names])


def exported_services(specs: Sequence[AppSpec], backend: Backend | None) -> dict[str, Provide]:
    """One dependency per exported service, each built with its exporting app's store on ``backend``
    (None: only check that no two apps export one name)."""
    providers: dict[str, Provide] = {}
    owners: dict[str, str] = {}
    for spec in specs:
        for name, factory in spec.exports.items():
            if name in owners:
                raise AppLoadError(f"{spec.name} and {owners[name]} both export a service named {name!r}")
            owners[name] = spec.name
            if backend is not None:
                providers[name] = Provide(_provider(factory, Store(backend, spec.name)))
    return providers


def _provider(factory: ServiceFactory, store: Store) -> Callable[..., Any]:
    async def provide(db_session: NamedDependency[AsyncSession]) -> Any:
        return factory(db_session, store)

    return provide


def permission_catalog(specs: Sequence[AppSpec]) -> PermissionCatalog:
    """What the apps declare, each permission named after the app that lists it."""
    return PermissionCatalog((spec.name, p) for spec in specs for p in spec.permissions)


def register_codes(spec: AppSpec, registry: CodeRegistry = code_registry) -> None:
    """Reserve the app's code range and register its codes (a clash is a startup error). The platform's
    identity slice has no range: its codes are the platform's own."""
    if not spec.code_range:
        return
    registry.reserve(spec.name, spec.code_range)
    for code in spec.codes:
        registry.register(code.code, code.message, code.http_status, owner=spec.name)


def mount(
    spec: AppSpec, platform_layers: Sequence[Middleware] = (), registry: CodeRegistry = code_registry
) -> Router:
    """Register the app's codes and build its router (one OpenAPI tag). ``platform_layers``: kami's
    middleware for app routes (:func:`kami.pipeline.order.app_route_middleware`), outermost."""
    register_codes(spec, registry)
    return Router(
        path=spec.prefix,
        route_handlers=list(spec.route_handlers),
        tags=[spec.tag],
        dependencies=dict(spec.dependencies),
        middleware=[*platform_layers, *spec.middleware],
        guards=list(spec.guards),
        opt={APP_KEY: spec.name},
    )
