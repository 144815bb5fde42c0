"""One typed settings object, read from ``KAMI_*`` environment variables and an optional ``.env`` file.

Precedence: environment > ``.env`` > defaults. Every variable may instead be given as ``<NAME>_FILE``
(a path whose content is the value) so that Docker and Kubernetes secrets work unchanged.
Each group's fields map to ``KAMI_<PREFIX><FIELD>``; see :func:`env_name`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec

from kami.routes import RateLimit

__all__ = [
    "DEFAULT_SECRET_KEY",
    "AppSettings",
    "DatabaseSettings",
    "JobsSettings",
    "MailSettings",
    "RateLimitSettings",
    "RedisAddress",
    "RedisAddressError",
    "RedisSettings",
    "SecuritySettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "TelemetrySettings",
    "describe_variables",
    "env_example",
    "env_name",
    "get_settings",
    "load_settings",
    "masked",
    "production_requirements",
    "read_env_file",
]

DEFAULT_SECRET_KEY = "development-only-key-it-is-public-never-deploy-it"  # refused outside development
MIN_SECRET_KEY_LENGTH = 32
Environment = Literal["development", "staging", "production"]


def _doc(text: str) -> msgspec.Meta:
    return msgspec.Meta(description=text)


class _Group(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    env_prefix: ClassVar[str] = ""
    secret_fields: ClassVar[frozenset[str]] = frozenset()


class AppSettings(_Group, frozen=True, kw_only=True):
    name: Annotated[str, _doc("Service name shown in logs, traces and the API docs.")] = "kami"
    environment: Annotated[Environment, _doc("development, staging or production.")] = "development"
    debug: Annotated[bool, _doc("Litestar debug mode (never in production).")] = False
    apps: Annotated[
        list[str], _doc("Application packages to mount, comma separated (e.g. apps.app_a,apps.app_b).")
    ] = msgspec.field(default_factory=lambda: ["apps.app_a", "apps.app_b"])
    data_dir: Annotated[str, _doc("Folder for the embedded SQLite database.")] = "data"
    log_format: Annotated[Literal["auto", "json", "console"], _doc("auto = JSON outside development.")] = (
        "auto"
    )
    log_level: Annotated[str, _doc("Root log level.")] = "INFO"


class ServerSettings(_Group, frozen=True, kw_only=True):
    env_prefix: ClassVar[str] = "SERVER_"
    host: Annotated[str, _doc("Address Granian binds to.")] = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535, description="Port Granian listens on.")] = 8000
    workers: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            description="Worker processes; 0 = one per CPU with Redis, exactly one without (the in-memory "
            "store is per process: more workers need KAMI_REDIS_URL).",
        ),
    ] = 0
    backlog: Annotated[int, msgspec.Meta(ge=1, description="Listen backlog.")] = 1024
    keep_alive: Annotated[bool, _doc("HTTP/1 keep-alive.")] = True
    graceful_timeout: Annotated[
        int, msgspec.Meta(ge=1, le=600, description="Seconds a worker may take to finish on shutdown.")
    ] = 30
    drain_seconds: Annotated[
        int,
        msgspec.Meta(
            ge=0, le=120, description="On SIGTERM, seconds /health/ready answers 503 before listening stops."
        ),
    ] = 5
    workers_max_rss: Annotated[
        int, msgspec.Meta(ge=0, description="Recycle a worker above this many MiB of memory; 0 = never.")
    ] = 0
    max_header_size: Annotated[
        int, msgspec.Meta(ge=1024, description="Largest accepted request headers, in bytes (431 beyond).")
    ] = 16384
    max_body_size: Annotated[int, msgspec.Meta(ge=1024, description="Largest accepted request body.")] = (
        1_048_576
    )
    max_in_flight: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            description="App requests one worker serves at once; beyond, 503 / 5006 with Retry-After at "
            "once instead of a queue (health, metrics and docs are never refused). About a worker's "
            "throughput times the latency you accept (bench/soak.py). 0 = no limit.",
        ),
    ] = 32
    request_timeout: Annotated[
        float,
        msgspec.Meta(
            ge=0,
            description="Seconds an app request may take; past it 504 / 5007 and its work is cancelled "
            "(a route may declare its own deadline). 0 = no deadline.",
        ),
    ] = 30.0


class DatabaseSettings(_Group, frozen=True, kw_only=True):
    env_prefix: ClassVar[str] = "DATABASE_"
    secret_fields: ClassVar[frozenset[str]] = frozenset({"url", "password", "replica_urls"})
    url: Annotated[
        str, _doc("SQLAlchemy URL; empty = the parts below, or the embedded SQLite file if no host.")
    ] = ""
    driver: Annotated[str, _doc("Driver used with the parts (mysql+asyncmy, postgresql+asyncpg).")] = (
        "mysql+asyncmy"
    )
    host: Annotated[str, _doc("Database host (when no URL).")] = ""
    port: Annotated[int, msgspec.Meta(ge=0, le=65535, description="Database port; 0 = default.")] = 0
    user: Annotated[str, _doc("Database user.")] = ""
    password: Annotated[str, _doc("Database password.")] = ""
    name: Annotated[str, _doc("Database name.")] = "kami"
    replica_urls: Annotated[list[str], _doc("Read-only replica URLs, comma separated.")] = msgspec.field(
        default_factory=list
    )
    pool_size: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            description="Connections kept open per pool (each worker has two: ORM sessions and lean reads).",
        ),
    ] = 20
    max_overflow: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            description="Extra connections under load, closed again as soon as they are given back "
            "(0: requests wait for a kept one; overflow churns connections at steady load).",
        ),
    ] = 0
    pool_recycle: Annotated[
        int, msgspec.Meta(ge=1, description="Seconds before a connection is renewed.")
    ] = 3600
    pool_timeout: Annotated[
        float, msgspec.Meta(gt=0, description="Seconds to wait for a free connection.")
    ] = 10.0
    connect_timeout: Annotated[float, msgspec.Meta(gt=0, description="Seconds to open a connection.")] = 5.0
    pre_ping: Annotated[bool, _doc("Test pooled connections before use (see pre_ping_after).")] = True
    pre_ping_after: Annotated[
        float,
        msgspec.Meta(
            ge=0,
            description="Seconds a pooled connection may sit idle before it is tested on its next use "
            "(0 = before every use: one extra round trip per request).",
        ),
    ] = 1.0
    statement_timeout: Annotated[
        float,
        msgspec.Meta(
            ge=0,
            description="Seconds the database itself lets one statement run (MariaDB max_statement_time, "
            "MySQL max_execution_time for SELECTs, PostgreSQL statement_timeout). 0 = no limit.",
        ),
    ] = 30.0
    echo: Annotated[bool, _doc("Log every SQL statement.")] = False
    auto_migrate: Annotated[
        bool | None, _doc("Apply migrations on start; unset = only on the embedded SQLite default.")
    ] = None
    idempotency_hours: Annotated[
        int,
        msgspec.Meta(
            ge=1, le=24 * 30, description="How long a completed Idempotency-Key's answer is kept (hours)."
        ),
    ] = 24
    lock_retries: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=10,
            description="Times an idempotent route's transaction runs again after losing a deadlock or "
            "a lock wait.",
        ),
    ] = 3


class RedisSettings(_Group, frozen=True, kw_only=True):
    env_prefix: ClassVar[str] = "REDIS_"
    secret_fields: ClassVar[frozenset[str]] = frozenset({"url"})
    url: Annotated[str, _doc("redis:// URL; empty = in-memory store (single process only).")] = ""
    pool_size: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            description="Maximum Redis connections for the job queue and sessions (the cache, rate limits "
            "and locks share one pipelined connection per worker).",
        ),
    ] = 50
    socket_timeout: Annotated[float, msgspec.Meta(gt=0, description="Seconds per Redis command.")] = 2.0


class JobsSettings(_Group, frozen=True, kw_only=True):
    env_prefix: ClassVar[str] = "JOBS_"
    concurrency: Annotated[
        int, msgspec.Meta(ge=1, le=1000, description="Jobs one `kami worker` runs at once.")
    ] = 10
    port: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=65535,
            description="Port `kami worker` answers /health/live and /metrics on (bound on "
            "KAMI_SERVER_HOST); 0 = none.",
        ),
    ] = 8001


class MailSettings(_Group, frozen=True, kw_only=True):
    env_prefix: ClassVar[str] = "MAIL_"
    secret_fields: ClassVar[frozenset[str]] = frozenset({"password"})
    host: Annotated[
        str,
        _doc(
            "SMTP server; empty = none: in development the messages are logged (links included), "
            "elsewhere sending fails and the job is retried, then dead-lettered."
        ),
    ] = ""
    port: Annotated[int, msgspec.Meta(ge=1, le=65535, description="SMTP port (587 STARTTLS, 465 TLS).")] = 587
    security: Annotated[
        Literal["starttls", "tls", "none"],
        _doc("starttls (upgrade after connecting), tls (TLS from the start) or none (a local catcher)."),
    ] = "starttls"
    username: Annotated[str, _doc("SMTP login; empty = send without logging in.")] = ""
    password: Annotated[str, _doc("SMTP password.")] = ""
    sender: Annotated[str, _doc("From: of every message.")] = "kami <no-reply@localhost>"
    timeout: Annotated[float, msgspec.Meta(gt=0, le=300, description="Seconds per SMTP exchange.")] = 10.0
    link_base: Annotated[
        str, _doc("Where the links in messages point (the public address of the API), no trailing slash.")
    ] = "http://127.0.0.1:8000"


class RateLimitSettings(_Group, frozen=True, kw_only=True):
    env_prefix: ClassVar[str] = "RATELIMIT_"
    enabled: Annotated[bool, _doc("Apply rate limits to application routes.")] = True
    default: Annotated[
        str, _doc("Limit per identity when nothing more specific applies (N/second|minute|hour|day).")
    ] = "100/minute"
    tiers: Annotated[
        list[str],
        _doc("Per-tier limits for authenticated callers, e.g. free=100/minute,premium=1000/minute."),
    ] = msgspec.field(
        default_factory=lambda: ["free=100/minute", "premium=1000/minute", "enterprise=10000/minute"]
    )
    fail_open: Annotated[bool, _doc("When the store is down: let requests through (true) or answer 503.")] = (
        True
    )
    trusted_proxies: Annotated[
        list[str], _doc("Peers (IPs or CIDRs) whose X-Forwarded-For is believed, comma separated.")
    ] = msgspec.field(default_factory=list)

    @property
    def tier_rates(self) -> dict[str, str]:
        """``tiers`` as {tier: rate}: what the rate limiter applies."""
        return {name.strip(): rate for name, _, rate in (t.partition("=") for t in self.tiers)}

    @property
    def tier_names(self) -> frozenset[str]:
        """The tiers an account may be in: those ``tiers`` names, and ``free`` (every new account's)."""
        return frozenset({"free", *self.tier_rates})


class TelemetrySettings(_Group, frozen=True, kw_only=True):
    env_prefix: ClassVar[str] = "TELEMETRY_"
    otlp_endpoint: Annotated[
        str, _doc("OTLP gRPC endpoint; empty = OTEL_EXPORTER_OTLP_ENDPOINT or no export.")
    ] = ""
    service_name: Annotated[str, _doc("service.name; empty = OTEL_SERVICE_NAME or the app name.")] = ""
    sampling_ratio: Annotated[
        Annotated[float, msgspec.Meta(ge=0, le=1)] | None,
        _doc("Head sampling ratio 0..1; unset = 1.0, or 0.1 in production."),
    ] = None


class SecuritySettings(_Group, frozen=True, kw_only=True):
    secret_fields: ClassVar[frozenset[str]] = frozenset({"secret_key"})
    secret_key: Annotated[str, _doc("Signing key for tokens (>= 32 characters in production).")] = (
        DEFAULT_SECRET_KEY
    )
    access_token_seconds: Annotated[
        int, msgspec.Meta(ge=60, le=86400, description="Lifetime of an access token, in seconds.")
    ] = 900
    refresh_token_seconds: Annotated[
        int,
        msgspec.Meta(
            ge=300, le=90 * 86400, description="Lifetime of a refresh token (each works once), in seconds."
        ),
    ] = 14 * 86400
    audit_retention_days: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=36500,
            description="Keep audit-trail records this many days (0 = for good); purged daily.",
        ),
    ] = 365
    cors_origins: Annotated[list[str], _doc("Origins allowed by CORS, comma separated.")] = msgspec.field(
        default_factory=list
    )
    allowed_hosts: Annotated[list[str], _doc("Accepted Host headers, comma separated; * = any.")] = (
        msgspec.field(default_factory=lambda: ["*"])
    )


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    app: AppSettings = msgspec.field(default_factory=AppSettings)
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    database: DatabaseSettings = msgspec.field(default_factory=DatabaseSettings)
    redis: RedisSettings = msgspec.field(default_factory=RedisSettings)
    jobs: JobsSettings = msgspec.field(default_factory=JobsSettings)
    mail: MailSettings = msgspec.field(default_factory=MailSettings)
    telemetry: TelemetrySettings = msgspec.field(default_factory=TelemetrySettings)
    ratelimit: RateLimitSettings = msgspec.field(default_factory=RateLimitSettings)
    security: SecuritySettings = msgspec.field(default_factory=SecuritySettings)

    @property
    def is_production(self) -> bool:
        return self.app.environment == "production"

    @property
    def database_url(self) -> str:
        """The primary database URL, resolved from the URL, the parts or the embedded default."""
        db = self.database
        if db.url:
            return db.url
        if db.host:
            from sqlalchemy.engine import URL

            return URL.create(
                db.driver,
                username=db.user or None,
                password=db.password or None,
                host=db.host,
                port=db.port or None,
                database=db.name,
            ).render_as_string(hide_password=False)
        return f"sqlite+aiosqlite:///{Path(self.app.data_dir).resolve() / 'kami.db'}"

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def should_auto_migrate(self) -> bool:
        if self.database.auto_migrate is not None:
            return self.database.auto_migrate
        return self.uses_embedded_database

    def worker_count(self, requested: int | None = None) -> int:
        """How many Granian workers ``kami serve`` runs: ``requested`` (``--workers``), else
        ``KAMI_SERVER_WORKERS``; 0 means one per CPU. Without Redis every guarantee that lives in the
        store (single-use tokens, idempotency keys, rate limits, cache invalidation) holds only inside
        one process, so the embedded default runs exactly one worker and refuses to run more."""
        count = self.server.workers if requested is None else requested
        problem = _worker_problem(
            count, self.redis.url, "KAMI_SERVER_WORKERS" if requested is None else "--workers"
        )
        if problem:
            raise SettingsError([problem])
        if count == 0:
            return (os.cpu_count() or 1) if self.redis.url else 1
        return count

    @property
    def sampling_ratio(self) -> float:
        if self.telemetry.sampling_ratio is not None:
            return self.telemetry.sampling_ratio
        return 0.1 if self.is_production else 1.0


class SettingsError(Exception):
    """Invalid configuration: ``problems`` lists one ``"KAMI_X: what is wrong"`` line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))


_GROUPS: dict[str, type[_Group]] = {
    "app": AppSettings,
    "server": ServerSettings,
    "database": DatabaseSettings,
    "redis": RedisSettings,
    "jobs": JobsSettings,
    "telemetry": TelemetrySettings,
    "ratelimit": RateLimitSettings,
    "security": SecuritySettings,
}


def env_name(group: type[_Group], field: str) -> str:
    return f"KAMI_{group.env_prefix}{field}".upper()


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file: ``KEY=value`` lines, ``#`` comments, optional quotes and ``export``."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _field_type(group: type[_Group], field: str) -> msgspec.inspect.Type:
    info = msgspec.inspect.type_info(group)
    assert isinstance(info, msgspec.inspect.StructType)
    found = next(f.type for f in info.fields if f.name == field)
    while isinstance(found, msgspec.inspect.Metadata):
        found = found.type
    return found


def _is_list(t: msgspec.inspect.Type) -> bool:
    return isinstance(t, msgspec.inspect.ListType)


def _raw_value(source: Mapping[str, str], name: str) -> str | None:
    if name in source:
        return source[name]
    file_name = f"{name}_FILE"
    if file_name in source:
        try:
            return Path(source[file_name]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError([f"{file_name}: cannot read {source[file_name]!r} ({exc.strerror})"]) from exc
    return None


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = None) -> Settings:
    """Build and validate :class:`Settings`; raise :class:`SettingsError` naming every bad variable."""
    environ = os.environ if environ is None else environ
    env_file = env_file or Path(environ.get("KAMI_ENV_FILE", ".env"))
    source = {**read_env_file(env_file), **environ}
    problems: list[str] = []
    groups: dict[str, _Group] = {}
    for key, group in _GROUPS.items():
        raw: dict[str, Any] = {}
        for field in msgspec.structs.fields(group):
            name = env_name(group, field.name)
            try:
                value = _raw_value(source, name)
            except SettingsError as exc:
                problems.extend(exc.problems)
                continue
            if value is None:
                continue
            if _is_list(_field_type(group, field.name)):
                raw[field.name] = [item.strip() for item in value.split(",") if item.strip()]
            elif value == "" and not isinstance(_field_type(group, field.name), msgspec.inspect.StrType):
                continue
            else:
                raw[field.name] = value
        try:
            groups[key] = msgspec.convert(raw, group, strict=False)
        except msgspec.ValidationError as exc:
            problems.append(_describe(group, str(exc), raw))
    if problems:
        raise SettingsError(problems)
    settings = Settings(**groups)  # type: ignore[arg-type]
    problems.extend(_rate_problems(settings.ratelimit))
    problems.extend(_redis_problems(settings.redis))
    problems.extend(
        filter(None, [_worker_problem(settings.server.workers, settings.redis.url, "KAMI_SERVER_WORKERS")])
    )
    problems.extend(_environment_problems(settings))
    if problems:
        raise SettingsError(problems)
    return settings


def _describe(group: type[_Group], message: str, raw: Mapping[str, Any]) -> str:
    """Turn msgspec's ``Expected int, got str - at `$.port``` into ``KAMI_SERVER_PORT: ...``."""
    text, _, where = message.partition(" - at `$.")
    field = where.rstrip("`").split(".")[0].split("[")[0]
    if not field:
        return f"KAMI_{group.env_prefix}*: {text}"
    shown = "***" if field in group.secret_fields else raw.get(field)
    return f"{env_name(group, field)}: {text.replace('`', '')} (got {shown!r})"


def _worker_problem(workers: int, redis_url: str, asked_by: str) -> str | None:
    if workers <= 1 or redis_url:
        return None
    return (
        f"{asked_by}: {workers} workers need KAMI_REDIS_URL: without Redis each worker keeps its "
        "own in-memory store (refresh tokens, idempotency keys, rate limits and caches would split by "
        "worker); set KAMI_REDIS_URL, or run one worker"
    )


class RedisAddressError(ValueError):
    """The URL asks for something kami's Redis clients cannot all do."""


@dataclass(frozen=True)
class RedisAddress:
    host: str = "127.0.0.1"
    port: int = 6379
    path: str | None = None  # a unix socket instead of host and port
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> RedisAddress:
        parts = urlsplit(url)
        if parts.scheme not in _REDIS_SCHEMES:
            raise RedisAddressError(f"{parts.scheme or 'no'} scheme: use redis://, rediss:// or unix://")
        options = parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(options) - {"db"})
        if unknown:
            raise RedisAddressError(
                f"option {', '.join(map(repr, unknown))} is not supported: kami reads the host, port, "
                "user, password, database and rediss:// TLS from the URL; timeouts come from "
                "KAMI_REDIS_SOCKET_TIMEOUT"
            )
        db_text = (
            options["db"][0] if "db" in options else parts.path.lstrip("/") if parts.scheme != "unix" else ""
        )
        try:
            db = int(db_text or 0)
            port = parts.port or 6379
        except ValueError as exc:
            raise RedisAddressError(f"not a database number or port: {exc}") from exc
        if parts.scheme == "unix" and not parts.path:
            raise RedisAddressError("unix:// needs the socket's path, e.g. unix:///run/redis.sock")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=port,
            path=parts.path if parts.scheme == "unix" else None,
            db=db,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=parts.scheme == "rediss",
        )

    @property
    def where(self) -> str:
        """For messages: ``host:port``, or the socket's path."""
        return self.path or f"{self.host}:{self.port}"


_REDIS_SCHEMES = ("redis", "rediss", "unix")


def _redis_problems(redis: RedisSettings) -> list[str]:
    if not redis.url:
        return []
    try:
        RedisAddress.parse(redis.url)
    except RedisAddressError as exc:
        return [f"KAMI_REDIS_URL: {exc}"]
    return []


def _rate_problems(rates: RateLimitSettings) -> list[str]:
    problems: list[str] = []
    for name, texts in (("KAMI_RATELIMIT_DEFAULT", [rates.default]), ("KAMI_RATELIMIT_TIERS", rates.tiers)):
        for text in texts:
            try:
                RateLimit.parse(text.partition("=")[2] if "=" in text else text)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
    for proxy in rates.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            problems.append(f"KAMI_RATELIMIT_TRUSTED_PROXIES: {proxy!r} is not an IP address or network")
    return problems


_PRODUCTION_RULES: tuple[tuple[str, str, Callable[[Settings], bool]], ...] = (
    ("KAMI_DEBUG", "debug must be off in production", lambda s: not s.app.debug),
    (
        "KAMI_DATABASE_URL",
        "production needs a real database (a URL or KAMI_DATABASE_HOST), not the embedded SQLite",
        lambda s: not s.uses_embedded_database,
    ),
    ("KAMI_REDIS_URL", "production needs Redis, not the in-memory store", lambda s: bool(s.redis.url)),
    (
        "KAMI_SECRET_KEY",
        f"production needs a random key of at least {MIN_SECRET_KEY_LENGTH} characters",
        lambda s: len(s.security.secret_key) >= MIN_SECRET_KEY_LENGTH,
    ),
)


def production_requirements() -> dict[str, str]:
    """Variable -> what ``KAMI_ENVIRONMENT=production`` requires of it (the configuration reference)."""
    return {name: requirement.removeprefix("production needs ") for name, requirement, _ in _PRODUCTION_RULES}


def _environment_problems(settings: Settings) -> list[str]:
    """What staging and production refuse: the public development key anywhere, the rest in production."""
    problems: list[str] = []
    if settings.app.environment != "development" and settings.security.secret_key == DEFAULT_SECRET_KEY:
        problems.append(
            f"KAMI_SECRET_KEY: the development key is public; {settings.app.environment} needs a random "
            f"key of at least {MIN_SECRET_KEY_LENGTH} characters"
        )
    if settings.is_production:
        problems += [f"{name}: {req}" for name, req, holds in _PRODUCTION_RULES if not holds(settings)]
    return problems


def masked(settings: Settings) -> dict[str, dict[str, Any]]:
    """The effective settings as plain data with every secret hidden (URLs keep all but the password)."""
    out: dict[str, dict[str, Any]] = {}
    for key, group in _GROUPS.items():
        values = msgspec.to_builtins(getattr(settings, key))
        for field in group.secret_fields:
            value = values.get(field)
            if isinstance(value, list):
                values[field] = [_mask_url(v) for v in value]
            elif value and field.endswith("url"):
                values[field] = _mask_url(value)
            elif value:
                values[field] = "***"
        out[key] = values
    out["database"]["effective_url"] = _mask_url(settings.database_url)
    return out


def _mask_url(url: str) -> str:
    """Hide the password of a URL, keep the rest readable."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "***"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once from the real environment."""
    return load_settings()


def describe_variables() -> list[tuple[str, str, str, str]]:
    """``(variable, type, default, description)`` for every setting, in declaration order."""
    rows: list[tuple[str, str, str, str]] = []
    for group in _GROUPS.values():
        info = msgspec.inspect.type_info(group)
        assert isinstance(info, msgspec.inspect.StructType)
        defaults = msgspec.to_builtins(group())
        for field in info.fields:
            described = field.type
            description = ""
            while isinstance(described, msgspec.inspect.Metadata):
                description = description or (described.extra_json_schema or {}).get("description", "")
                described = described.type
            default = defaults.get(field.name)
            shown = (
                ",".join(default) if isinstance(default, list) else "" if default is None else str(default)
            )
            if isinstance(default, bool):
                shown = str(default).lower()
            rows.append(
                (
                    env_name(group, field.name),
                    type(described).__name__.removesuffix("Type").lower(),
                    shown,
                    description,
                )
            )
    return rows


def env_example() -> str:
    """The text of ``.env.example``: every variable, commented, with its default."""
    lines = [
        "# kami configuration. Generated by `kami config --example`; do not edit by hand.",
        "# Every variable may also be given as <NAME>_FILE (a file holding the value).",
    ]
    for name, kind, default, description in describe_variables():
        lines += ["", f"# {description} ({kind})", f"# {name}={default}"]
    return "\n".join(lines) + "\n"
