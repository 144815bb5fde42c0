"""``create_app``: the one Litestar application that hosts every configured app.

Granian imports it as a factory (``kami.pipeline.app:create_app``) in every worker, so everything that holds
connections is built in the lifespan, per worker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
import structlog
from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from litestar import Litestar, Request
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.di import Provide

from kami.app_spec import AppLoadError, AppSpec, exported_services, load_apps, mount
from kami.db.config import DB_SESSION_KEY, build_sqlalchemy_config
from kami.db.migrations import head_revision, upgrade
from kami.db.pagination import provide_page_params
from kami.db.precompiled import dispose_read_engines
from kami.jobs import Jobs, collect, redis_queue
from kami.observability.logging import access_line_writer, configure_logging
from kami.observability.metrics import metrics_endpoint
from kami.observability.telemetry import build_telemetry, service_name
from kami.overrides.dependency_order import resolve_dependencies_in_order
from kami.overrides.json_request import KamiRequest
from kami.overrides.options_allow import options_allow_header
from kami.pipeline.access_log import AccessLog, annotate_response
from kami.pipeline.dependencies import provide_cache, provide_flags, provide_store, session_store
from kami.pipeline.exception_handlers import exception_handlers
from kami.pipeline.header_limit import HeaderLimitMiddleware
from kami.pipeline.health import (
    HealthController,
    check_database,
    check_migrations,
    check_redis,
    check_telemetry,
)
from kami.pipeline.idempotency import IdempotencyMiddleware
from kami.pipeline.openapi import build_openapi_config, docs_assets_router, polish
from kami.pipeline.rate_limit import RateLimitMiddleware
from kami.pipeline.response_cache import ResponseCacheMiddleware
from kami.pipeline.security_headers import security_headers
from kami.routes import resolve_route_policies
from kami.runtime import HealthCheck, Runtime, runtime_of
from kami.security.identity import provide_identity
from kami.security.tokens import TokenSigner
from kami.security.trusted_proxies import TrustedProxies
from kami.settings import Settings, get_settings
from kami.store.backend import RedisBackend
from kami.store.client import build_backend, build_redis

__all__ = ["create_app"]

log = structlog.get_logger("kami.pipeline.app")


def _token_signer(request: Request[Any, Any, Any]) -> TokenSigner:
    return runtime_of(request.app).signer


def _jobs(request: Request[Any, Any, Any]) -> Jobs:
    return runtime_of(request.app).jobs


def create_app(settings: Settings | None = None, apps: Sequence[AppSpec] | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings, service_name(settings))
    telemetry = build_telemetry(settings)
    specs = list(apps) if apps is not None else load_apps(settings.app.apps)
    db_config = build_sqlalchemy_config(settings)
    redis = build_redis(settings)  # no connections yet: they open on first use, in the worker's loop
    backend = build_backend(settings)

    queue = redis_queue(redis) if redis is not None else None
    checks: dict[str, HealthCheck] = {"database": check_database}
    ready: dict[str, HealthCheck] = {"database": check_database, "migrations": check_migrations}
    if redis is not None:
        checks["redis"] = ready["redis"] = check_redis
    checks["telemetry"] = check_telemetry
    runtime = Runtime(
        settings=settings,
        apps=tuple(specs),
        engine=db_config.get_engine(),
        backend=backend,
        redis=redis,
        jobs=Jobs(collect(specs), backend, queue, settings),
        signer=TokenSigner(
            settings.security.secret_key, issuer=settings.app.name, audience=settings.app.name
        ),
        telemetry=telemetry,
        schema_head=head_revision(),
        health_checks=checks,
        ready_checks=ready,
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        store_connection = backend.redis if isinstance(backend, RedisBackend) else None
        telemetry.instrument([runtime.engine], redis, store_connection)
        if settings.should_auto_migrate:
            await anyio.to_thread.run_sync(upgrade, settings)
        polish(app)
        log.info("kami started", apps=[s.name for s in specs], environment=settings.app.environment)
        try:
            yield
        finally:
            await runtime.jobs.drain()
            await dispose_read_engines()
            await backend.close()
            await telemetry.shutdown()

    routers = [mount(spec) for spec in specs]
    proxies = TrustedProxies(settings.ratelimit.trusted_proxies)  # whom to believe: one rule for all
    platform_dependencies = {
        "page_params": provide_page_params,
        "identity": provide_identity,
        "token_signer": Provide(_token_signer, sync_to_thread=False),
        "store": Provide(provide_store, sync_to_thread=False),
        "cache": Provide(provide_cache, sync_to_thread=False),
        "flags": Provide(provide_flags, sync_to_thread=False),
        "jobs": Provide(_jobs, sync_to_thread=False),
    }
    services = exported_services(specs)
    taken = set(services) & {*platform_dependencies, DB_SESSION_KEY}
    if taken:
        raise AppLoadError(f"an app exports a service under a name kami provides itself: {sorted(taken)}")
    app = Litestar(
        route_handlers=[HealthController, metrics_endpoint, docs_assets_router(), *routers],
        plugins=[SQLAlchemyPlugin(config=db_config)],
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        before_send=[
            annotate_response,
            security_headers(proxies),
            options_allow_header(),
        ],
        request_class=KamiRequest,
        dependencies={**platform_dependencies, **services},
        middleware=[
            HeaderLimitMiddleware(settings.server.max_header_size),
            RateLimitMiddleware(settings.ratelimit, proxies),
            IdempotencyMiddleware(settings.server.max_body_size, proxies),
            ResponseCacheMiddleware(),
        ],
        lifespan=[lifespan],
        openapi_config=build_openapi_config(settings),
        cors_config=CORSConfig(allow_origins=settings.security.cors_origins)
        if settings.security.cors_origins
        else None,
        allowed_hosts=settings.security.allowed_hosts if settings.security.allowed_hosts != ["*"] else None,
        stores={spec.session_store: session_store(redis, spec.name) for spec in specs if spec.sessions},
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024, gzip_compress_level=6),
        request_max_body_size=settings.server.max_body_size,
        debug=settings.app.debug,
        logging_config=None,
    )
    runtime.attach(app)
    resolve_route_policies(app, {spec.name: spec.rate_limit for spec in specs})
    resolve_dependencies_in_order(app)
    # Outside Litestar's router so unknown routes (404) and wrong methods (405) are covered too.
    app.asgi_handler = AccessLog(
        telemetry.server_span(app.asgi_handler),
        proxies,
        writers=[access_line_writer(settings), telemetry.export_access_line],
    )
    return app
