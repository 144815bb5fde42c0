"""What ``KAMI_REDIS_URL`` names, read once: every Redis client kami makes connects from this."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["RedisAddress", "RedisAddressError"]


_REDIS_SCHEMES = ("redis", "rediss", "unix")


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
