"""``create_app``: the one Litestar application that hosts every configured app.

Granian imports it as a factory (``kami.pipeline.app:create_app``) in every worker. Nothing built here
holds a connection yet: pools and the store connect on first use, inside the worker's event loop, and
the lifespan closes them. The order a request passes through is :mod:`kami.pipeline.order`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import anyio
import structlog
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig

from kami.accounts.provider import IdentityProvider
from kami.accounts.slice import ACCOUNTS_APP, with_accounts
from kami.app_spec import AppLoadError, AppSpec, load_apps, mount, permission_catalog
from kami.db.config import build_sqlalchemy_config, replica_engines
from kami.db.migrations import head_revision, upgrade
from kami.db.precompiled import dispose_read_engines
from kami.jobs import PLATFORM_JOBS, Jobs, collect, redis_queue
from kami.observability.logging import configure_logging
from kami.observability.metrics import metrics_endpoint
from kami.observability.telemetry import build_telemetry
from kami.overrides.compression_close import ClosingCompressionMiddleware
from kami.overrides.dependency_order import resolve_dependencies_in_order
from kami.overrides.json_request import KamiRequest
from kami.overrides.openapi_document import polish
from kami.pipeline import order
from kami.pipeline.dependencies import dependencies
from kami.pipeline.exception_handlers import exception_handlers
from kami.pipeline.health import HealthController, health_checks, ready_checks, watch_readiness
from kami.pipeline.index import IndexController
from kami.pipeline.openapi import API_KEY_SCHEME, BEARER_SCHEME, build_openapi_config, docs_assets_router
from kami.pipeline.runtime import Runtime
from kami.routes import resolve_route_policies
from kami.security.identity import route_access
from kami.security.trusted_proxies import TrustedProxies
from kami.settings import Settings, get_settings
from kami.store.backend import RedisBackend
from kami.store.client import build_backend, build_redis

__all__ = ["create_app"]

log = structlog.get_logger("kami.pipeline.app")


def build_runtime(settings: Settings, specs: Sequence[AppSpec], database: SQLAlchemyAsyncConfig) -> Runtime:
    """Everything one worker holds, ``specs`` being the apps mounted beside the identity slice."""
    configure_logging(settings)
    taken = [
        spec.name for spec in specs if spec.name == ACCOUNTS_APP.name or spec.prefix == ACCOUNTS_APP.prefix
    ]
    if taken:
        raise AppLoadError(
            f"KAMI_APPS: {taken[0]} takes the identity slice's name or prefix ({ACCOUNTS_APP.prefix})"
        )
    redis = build_redis(settings)
    backend = build_backend(settings)
    queue = redis_queue(redis) if redis is not None else None
    mounted = with_accounts(specs)
    catalog = permission_catalog(mounted)
    identity = IdentityProvider.build(settings, backend, database.get_session, catalog)
    return Runtime(
        settings=settings,
        apps=(identity.slice(), *specs),
        engine=database.get_engine(),
        database=database,
        backend=backend,
        redis=redis,
        jobs=Jobs(collect(mounted, PLATFORM_JOBS), backend, queue, settings, database.get_session),
        identity=identity,
        proxies=TrustedProxies(settings.ratelimit.trusted_proxies),
        telemetry=build_telemetry(settings),
        schema_head=head_revision(),
        health_checks=health_checks(redis is not None),
        ready_checks=ready_checks(redis is not None),
    )


def create_app(settings: Settings | None = None, apps: Sequence[AppSpec] | None = None) -> Litestar:
    settings = settings or get_settings()
    specs = list(apps) if apps is not None else load_apps(settings.app.apps)
    db_config = build_sqlalchemy_config(settings)
    runtime = build_runtime(settings, specs, db_config)
    proxies = runtime.proxies

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        backend = runtime.backend
        store_connection = backend.redis if isinstance(backend, RedisBackend) else None
        engines = [runtime.engine, *replica_engines(runtime.database)]
        runtime.telemetry.instrument(engines, runtime.redis, store_connection)
        if settings.should_auto_migrate:
            await anyio.to_thread.run_sync(upgrade, settings)
        polish(app, security=(BEARER_SCHEME, API_KEY_SCHEME))
        log.info("kami started", apps=[s.name for s in specs], environment=settings.app.environment)
        stop_watching = asyncio.Event()
        watcher = asyncio.create_task(watch_readiness(runtime, stop_watching), name="kami readiness")
        try:
            yield
        finally:
            stop_watching.set()
            await watcher  # ends after the check it is running, if any (at most CHECK_TIMEOUT)
            await runtime.jobs.drain()
            await dispose_read_engines()
            for replica in engines[1:]:  # advanced-alchemy's plugin disposes the primary only
                await replica.dispose()
            await backend.close()
            await runtime.telemetry.shutdown()

    app_layers = order.app_route_middleware(runtime, proxies)
    app = Litestar(
        route_handlers=[
            IndexController,
            HealthController,
            *([] if settings.is_production else [metrics_endpoint]),  # production: KAMI_SERVER_METRICS_PORT
            docs_assets_router(),
            *(mount(spec, app_layers) for spec in runtime.apps),
        ],
        plugins=[SQLAlchemyPlugin(config=db_config)],
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        middleware=order.middleware(runtime),
        before_send=order.before_send(proxies),
        request_class=KamiRequest,
        dependencies=dependencies(runtime.apps, runtime),
        lifespan=[lifespan],
        openapi_config=build_openapi_config(settings, runtime.apps),
        cors_config=CORSConfig(allow_origins=settings.security.cors_origins)
        if settings.security.cors_origins
        else None,
        allowed_hosts=settings.security.allowed_hosts if settings.security.allowed_hosts != ["*"] else None,
        compression_config=CompressionConfig(
            backend="gzip",
            minimum_size=1024,
            gzip_compress_level=6,
            middleware_class=ClosingCompressionMiddleware,
        ),
        request_max_body_size=settings.server.max_body_size,
        debug=settings.app.debug,
        logging_config=None,
    )
    runtime.attach(app)
    resolve_route_policies(
        app,
        {spec.name: spec.rate_limit for spec in runtime.apps},
        settings.server.request_timeout,
        route_access(runtime.identity.catalog),
    )
    resolve_dependencies_in_order(app)
    app.asgi_handler = order.wrap_edge(app.asgi_handler, runtime, proxies)
    return app
