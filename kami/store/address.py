"""``KAMI_REDIS_URL`` read once, into one typed address every Redis client of kami is built from.

kami has two clients (the store's pipelined connection and redis-py's pool for the job queue and
sessions); both connect with exactly what this reads, so they can never disagree about where, as whom
or how. What the URL may say: ``redis://`` or ``rediss://`` (TLS, verified), ``unix://`` sockets, a
user and password, a database number. Anything else (a query option such as ``?socket_timeout=`` or
``?ssl_cert_reqs=none``) is refused when the settings are read, naming the option, instead of being
honoured by one client and silently dropped by the other. Timeouts come from
``KAMI_REDIS_SOCKET_TIMEOUT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["RedisAddress", "RedisAddressError"]

_SCHEMES = ("redis", "rediss", "unix")


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
        if parts.scheme not in _SCHEMES:
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

    def client_options(self) -> dict[str, object]:
        """Connection options for redis-py's ``ConnectionPool`` (the job queue's and sessions' client),
        from exactly what the URL said."""
        from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection

        options: dict[str, object] = {"db": self.db, "username": self.username, "password": self.password}
        if self.path:
            return options | {"connection_class": UnixDomainSocketConnection, "path": self.path}
        kind = SSLConnection if self.tls else Connection
        return options | {"connection_class": kind, "host": self.host, "port": self.port}

    @property
    def where(self) -> str:
        """For messages: ``host:port``, or the socket's path."""
        return self.path or f"{self.host}:{self.port}"
