"""Build advanced-alchemy's configuration (engine, pool, sessions, Alembic) from the settings."""

from __future__ import annotations

import importlib.util
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from advanced_alchemy.config import AlembicAsyncConfig, AsyncSessionConfig
from advanced_alchemy.extensions.litestar import EngineConfig, SQLAlchemyAsyncConfig
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from kami.db.engines import EngineSetup, make_engine
from kami.overrides.lean_session import LeanSession
from kami.overrides.replica_routing import routing_session_maker
from kami.settings import Settings

__all__ = [
    "APPS_PACKAGE",
    "DB_SESSION_KEY",
    "build_sqlalchemy_config",
    "engine_options",
    "migrations_path",
    "normalise_url",
    "replica_engines",
]

DB_SESSION_KEY = "db_session"
APPS_PACKAGE = "apps"  # where applications live; its ``migrations`` package holds the one history
VERSION_TABLE = "alembic_version"


def normalise_url(url: str) -> str:
    """Force utf8mb4 on MySQL/MariaDB, which otherwise may default to a 3-byte charset."""
    parsed = make_url(url)
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def engine_options(settings: Settings, url: str) -> dict[str, Any]:
    """Pool and connect-timeout options for ``create_async_engine``, right for each backend.

    The pool keeps ``pool_size`` connections and, by default, opens none beyond them: an overflow
    connection is closed whenever it is given back to a full pool, so under steady load above the pool
    size connections were opened and closed continuously (54 a second at 64 clients, measured); with no
    overflow a request waits up to ``pool_timeout`` for one of the kept connections instead."""
    db = settings.database
    backend = make_url(url).get_backend_name()
    # Testing before *every* use is SQLAlchemy's own pre-ping; otherwise kami.db.liveness tests only
    # connections that sat idle (see create_engine).
    options: dict[str, Any] = {"echo": db.echo, "pool_pre_ping": db.pre_ping and db.pre_ping_after == 0}
    if backend == "sqlite":
        return options
    options |= {
        "pool_size": db.pool_size,
        "max_overflow": db.max_overflow,
        "pool_recycle": db.pool_recycle,
        "pool_timeout": db.pool_timeout,
    }
    if backend in ("mysql", "mariadb"):
        options["connect_args"] = {"connect_timeout": int(db.connect_timeout)}
    elif backend == "postgresql":
        options["connect_args"] = {"timeout": db.connect_timeout}
    return options


def _engine_maker(settings: Settings) -> Callable[..., AsyncEngine]:
    """advanced-alchemy's ``create_engine_callable``: its engine options (JSON codecs included), set
    up by :func:`kami.db.engines.make_engine` (idle test unless every use is pinged, statement limit)."""
    db = settings.database

    def create(url: str, **options: Any) -> AsyncEngine:
        setup = EngineSetup(
            connect_args=options.pop("connect_args", {}),
            ping_after=db.pre_ping_after if db.pre_ping and db.pre_ping_after > 0 else None,
            statement_timeout=db.statement_timeout,
        )
        return make_engine(url, setup, **options)

    return create


def migrations_path() -> Path:
    """The one Alembic history for all apps: it lives beside them, in the ``apps.migrations`` package."""
    spec = importlib.util.find_spec(f"{APPS_PACKAGE}.migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the apps.migrations package (the migration history) is missing")
    return Path(next(iter(spec.submodule_search_locations)))


def build_sqlalchemy_config(settings: Settings) -> SQLAlchemyAsyncConfig:
    """The plugin's configuration. With replicas, reads are routed round robin to them and anything
    inside :func:`kami.db.transaction.transaction` (or after a write) to the primary (see routing)."""
    url = normalise_url(settings.database_url)
    if url.startswith("sqlite"):
        Path(make_url(url).database or "kami.db").parent.mkdir(parents=True, exist_ok=True)
    options = engine_options(settings, url)
    session_options: dict[str, Any] = {"expire_on_commit": False, "autoflush": True, "class_": LeanSession}
    config = SQLAlchemyAsyncConfig(
        connection_string=url,
        create_engine_callable=_engine_maker(settings),
        engine_config=EngineConfig(**options),
        session_config=AsyncSessionConfig(**session_options),
        session_dependency_key=DB_SESSION_KEY,
        # Services own the transaction boundary (kami.db.transaction); the plugin only closes the
        # session, which rolls back anything a service did not commit.
        before_send_handler=None,
        set_default_exception_handler=False,
        alembic_config=AlembicAsyncConfig(
            script_location=str(migrations_path()), version_table_name=VERSION_TABLE, compare_type=True
        ),
    )
    if settings.database.replica_urls:
        primary = config.get_engine()
        replicas = [
            config.create_engine_callable(normalise_url(r), **config.engine_config_dict)  # type: ignore[call-arg]
            for r in settings.database.replica_urls
        ]
        config.session_maker = routing_session_maker(primary, replicas, **session_options)
        _replicas[config.session_maker] = replicas
    return config


# By the routing session maker the replicas serve (advanced-alchemy's config is not hashable).
_replicas: weakref.WeakKeyDictionary[Any, list[AsyncEngine]] = weakref.WeakKeyDictionary()


def replica_engines(config: SQLAlchemyAsyncConfig) -> list[AsyncEngine]:
    """The read replicas' engines of ``config`` (none without ``KAMI_DATABASE_REPLICA_URLS``): traced,
    timed and disposed like the primary."""
    maker = config.session_maker
    return list(_replicas.get(maker, ())) if maker is not None else []
