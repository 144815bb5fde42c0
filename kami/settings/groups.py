"""The settings groups: one frozen struct per ``KAMI_<PREFIX><FIELD>`` family, each field typed as the
code uses it and described (the description is the configuration reference's)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import msgspec

from kami.routes import RateLimit

__all__ = [
    "DEFAULT_SECRET_KEY",
    "MIN_SECRET_KEY_LENGTH",
    "AppSettings",
    "DatabaseSettings",
    "Group",
    "JobsSettings",
    "MailSettings",
    "RateLimitSettings",
    "RedisSettings",
    "SecuritySettings",
    "ServerSettings",
    "TelemetrySettings",
]

DEFAULT_SECRET_KEY = "development-only-key-it-is-public-never-deploy-it"  # refused outside development
MIN_SECRET_KEY_LENGTH = 32
Environment = Literal["development", "staging", "production"]


def _doc(text: str) -> msgspec.Meta:
    return msgspec.Meta(description=text)


class Group(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    env_prefix: ClassVar[str] = ""
    secret_fields: ClassVar[frozenset[str]] = frozenset()


class AppSettings(Group, frozen=True, kw_only=True):
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


class ServerSettings(Group, frozen=True, kw_only=True):
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
    metrics_port: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=65535,
            description="Port `kami serve` answers /metrics on (every worker's samples), bound on "
            "KAMI_SERVER_HOST; 0 = none. In production it is the only one: the app's port answers 404 "
            "for /metrics, so metrics never reach the public.",
        ),
    ] = 9100
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


class DatabaseSettings(Group, frozen=True, kw_only=True):
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


class RedisSettings(Group, frozen=True, kw_only=True):
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


class JobsSettings(Group, frozen=True, kw_only=True):
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


class MailSettings(Group, frozen=True, kw_only=True):
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


class RateLimitSettings(Group, frozen=True, kw_only=True):
    env_prefix: ClassVar[str] = "RATELIMIT_"
    enabled: Annotated[bool, _doc("Apply rate limits to application routes.")] = True
    default: Annotated[
        RateLimit, _doc("Limit per identity when nothing more specific applies (N/second|minute|hour|day).")
    ] = RateLimit(100, "minute")
    tiers: Annotated[
        dict[str, RateLimit],
        _doc("Per-tier limits for authenticated callers, e.g. free=100/minute,premium=1000/minute."),
    ] = msgspec.field(
        default_factory=lambda: {
            "free": RateLimit(100, "minute"),
            "premium": RateLimit(1000, "minute"),
            "enterprise": RateLimit(10000, "minute"),
        }
    )
    fail_open: Annotated[bool, _doc("When the store is down: let requests through (true) or answer 503.")] = (
        True
    )
    trusted_proxies: Annotated[
        list[str], _doc("Peers (IPs or CIDRs) whose X-Forwarded-For is believed, comma separated.")
    ] = msgspec.field(default_factory=list)

    @property
    def tier_names(self) -> frozenset[str]:
        """The tiers an account may be in: those ``tiers`` names, and ``free`` (every new account's)."""
        return frozenset({"free", *self.tiers})


class TelemetrySettings(Group, frozen=True, kw_only=True):
    env_prefix: ClassVar[str] = "TELEMETRY_"
    otlp_endpoint: Annotated[
        str, _doc("OTLP gRPC endpoint; empty = OTEL_EXPORTER_OTLP_ENDPOINT or no export.")
    ] = ""
    service_name: Annotated[str, _doc("service.name; empty = OTEL_SERVICE_NAME or the app name.")] = ""
    sampling_ratio: Annotated[
        Annotated[float, msgspec.Meta(ge=0, le=1)] | None,
        _doc("Head sampling ratio 0..1; unset = 1.0, or 0.1 in production."),
    ] = None


class SecuritySettings(Group, frozen=True, kw_only=True):
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
    session_max_seconds: Annotated[
        int,
        msgspec.Meta(
            ge=300,
            le=365 * 86400,
            description="Absolute lifetime of a login session from its login, whatever its refreshes.",
        ),
    ] = 30 * 86400
    refresh_grace_seconds: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=60,
            description="A refresh token presented again within this many seconds of its use (two tabs "
            "refreshing at once) gets the same new tokens; after it, reuse ends the session.",
        ),
    ] = 10
    reauthenticate_seconds: Annotated[
        int,
        msgspec.Meta(
            ge=60,
            le=86400,
            description="Making an API key, changing the password or ending other sessions needs the "
            "password given within this many seconds (at login, or POST /accounts/v1/auth/confirm).",
        ),
    ] = 600
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
