"""The one settings object, and the rules no single variable can check alone (production, workers)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import msgspec

from kami.settings.groups import (
    DEFAULT_SECRET_KEY,
    MIN_SECRET_KEY_LENGTH,
    AppSettings,
    DatabaseSettings,
    JobsSettings,
    MailSettings,
    RateLimitSettings,
    RedisSettings,
    SecuritySettings,
    ServerSettings,
    TelemetrySettings,
)

__all__ = ["Settings", "SettingsError", "cross_field_problems", "production_requirements"]


class SettingsError(Exception):
    """Invalid configuration: ``problems`` lists one ``"KAMI_X: what is wrong"`` line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every group is a field: the loader, ``kami config`` and the reference read the groups from
    here, so a new group is read from the environment by construction."""

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
            # Late: SQLAlchemy is not needed to read the settings (``kami config`` stays light).
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


def _worker_problem(workers: int, redis_url: str, asked_by: str) -> str | None:
    if workers <= 1 or redis_url:
        return None
    return (
        f"{asked_by}: {workers} workers need KAMI_REDIS_URL: without Redis each worker keeps its "
        "own in-memory store (refresh tokens, idempotency keys, rate limits and caches would split by "
        "worker); set KAMI_REDIS_URL, or run one worker"
    )


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


def cross_field_problems(settings: Settings) -> list[str]:
    """What depends on several variables at once: workers without Redis, the public development key
    outside development, and the rest of production's requirements."""
    problems = list(
        filter(None, [_worker_problem(settings.server.workers, settings.redis.url, "KAMI_SERVER_WORKERS")])
    )
    if settings.app.environment != "development" and settings.security.secret_key == DEFAULT_SECRET_KEY:
        problems.append(
            f"KAMI_SECRET_KEY: the development key is public; {settings.app.environment} needs a random "
            f"key of at least {MIN_SECRET_KEY_LENGTH} characters"
        )
    if settings.is_production:
        problems += [f"{name}: {req}" for name, req, holds in _PRODUCTION_RULES if not holds(settings)]
    return problems
