"""What a route declares to kami's request layers, typed, and checked once when the app is built.

An app's handler says ``opt=route_options(rate_limit=RateLimit(30), cache=ResponseCache(ttl=60))``.
:func:`resolve_route_policies` runs when ``create_app`` builds the application: it turns every route's
declarations (and its app's ``AppSpec.rate_limit``) into one :class:`RoutePolicy` per handler, and
refuses to start on anything it does not understand — an unknown ``opt`` key (``cache_tll``), a value
of the wrong type, Litestar's own ``cache=`` beside kami's response cache — naming the route. The
middlewares then read the resolved policy; nothing is parsed or looked up by string per request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:  # nothing of Litestar at run time: the settings import RateLimit, and stay light
    from litestar import Litestar
    from litestar.handlers import BaseRouteHandler

__all__ = [
    "DOCS_ASSETS_PATH",
    "DOCS_PATH",
    "HEALTH_PATH",
    "METRICS_PATH",
    "PLATFORM_APP",
    "PLATFORM_PATHS",
    "PLATFORM_TAG",
    "UNSAFE_METHODS",
    "Access",
    "RateLimit",
    "ResponseCache",
    "RouteDeclarationError",
    "RouteOptions",
    "RoutePolicy",
    "answered_methods",
    "is_app_route",
    "policy_of",
    "resolve_route_policies",
    "route_options",
]

Per = Literal["second", "minute", "hour", "day"]
_SECONDS: dict[str, int] = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$")
HEALTH_PATH = "/health"
METRICS_PATH = "/metrics"
DOCS_PATH = "/schema"  # the OpenAPI document and the docs pages
DOCS_ASSETS_PATH = f"{DOCS_PATH}/assets"
PLATFORM_PATHS = (HEALTH_PATH, METRICS_PATH, DOCS_PATH)  # kami's own: never traced or rate limited
OPT_KEY = "kami"  # where route_options() puts its declaration in a handler's ``opt``
APP_KEY = "kami_app"  # set by kami when it mounts an app: the app that owns the route
_POLICY_KEY = "kami_policy"  # the resolved RoutePolicy, written at startup
PLATFORM_APP = "kami"  # the owner of kami's own routes (health, metrics, docs)
PLATFORM_TAG = "Platform"  # the OpenAPI tag of kami's own routes


class RouteDeclarationError(ValueError):
    """A route declares something kami cannot honour; raised while the application is built."""


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` requests per ``every`` ``per`` (``RateLimit(30)`` is 30 a minute,
    ``RateLimit(5, "second", every=10)`` 5 every 10 seconds), per caller."""

    limit: int
    per: Per = "minute"
    every: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"a rate limit allows at least 1 request, not {self.limit!r}")
        if self.per not in get_args(Per):
            raise ValueError(f"per must be one of {', '.join(get_args(Per))}, not {self.per!r}")
        if not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"every must be a whole number of at least 1, not {self.every!r}")

    @property
    def window(self) -> float:
        return float(self.every * _SECONDS[self.per])

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """``"100/minute"``, ``"5/10second"`` (the settings' spelling); ValueError otherwise."""
        match = _RATE.match(text)
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"{text!r} is not a rate like 100/minute")
        per: Per = match.group(3)  # type: ignore[assignment]
        return cls(int(match.group(1)), per, int(match.group(2) or 1))

    @property
    def text(self) -> str:
        """The settings' spelling, which :meth:`parse` reads back: ``100/minute``, ``5/10second``."""
        return f"{self.limit}/{self.every if self.every > 1 else ''}{self.per}"

    def __str__(self) -> str:
        """The ``RateLimit-Policy`` header value: ``100;w=60``."""
        return f"{self.limit};w={int(self.window)}"


@dataclass(frozen=True)
class ResponseCache:
    """Cache the route's successful GET answers for ``ttl`` seconds, under ``tags`` (which writes
    invalidate), per caller when ``personal``."""

    ttl: int
    tags: tuple[str, ...] = ()
    personal: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.ttl, int) or self.ttl < 1:
            raise ValueError(f"a response cache keeps answers for at least 1 second, not {self.ttl!r}")
        if isinstance(self.tags, str) or not all(isinstance(tag, str) and tag for tag in self.tags):
            raise ValueError(f"tags must be a tuple of non-empty strings, not {self.tags!r}")


@dataclass(frozen=True)
class RouteOptions:
    rate_limit: RateLimit | None = None
    cache: ResponseCache | None = None
    idempotent: bool = False
    deadline: float | None = None


def route_options(
    *,
    rate_limit: RateLimit | None = None,
    cache: ResponseCache | None = None,
    idempotent: bool = False,
    deadline: float | None = None,
) -> dict[str, Any]:
    """The ``opt`` of a route: ``@get("/", opt=route_options(cache=ResponseCache(ttl=60)))``.

    ``idempotent=True`` (unsafe methods only) makes the request one database transaction: it honours
    ``Idempotency-Key`` (the key's record commits with the work, so a retry replays the answer or runs
    for the first time, never twice) and is run again when it loses a lock conflict
    (:mod:`kami.pipeline.idempotency`). ``deadline`` (seconds) replaces
    ``KAMI_SERVER_REQUEST_TIMEOUT`` for this route (:mod:`kami.pipeline.deadline`)."""
    return {
        OPT_KEY: RouteOptions(rate_limit=rate_limit, cache=cache, idempotent=idempotent, deadline=deadline)
    }


@dataclass(frozen=True)
class Access:
    """What a route asks of its caller, read from its guards at start-up. Every credential carries
    exactly what it lists: ``permissions`` are needed whatever the credential (a session of a person, or
    an API key); ``own_account`` marks an operation on the caller's own account (password, sessions,
    keys, profile), which only a person signed in may do, never an API key; ``recent_login`` asks in
    addition for a sign-in within the re-authentication window."""

    permissions: tuple[str, ...] = ()
    own_account: bool = False
    recent_login: bool = False


@dataclass(frozen=True)
class RoutePolicy:
    """Everything kami's request layers need to know about one handler, resolved at startup."""

    app: str  # the owning app's name (its store namespace, metrics and span label)
    rate_limit: RateLimit | None  # the route's own, else its app's; None: the caller's tier or the default
    rate_bucket: str  # whose window a request counts in: ``app:route``, ``app`` or ``global``
    cache: ResponseCache | None
    idempotent: bool = False
    deadline: float | None = None  # seconds the request may take; None: no deadline
    access: Access | None = None  # None: anyone may call it (and is counted by address)


_PLATFORM_POLICY = RoutePolicy(PLATFORM_APP, None, "global", None)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def policy_of(handler: BaseRouteHandler) -> RoutePolicy:
    """The resolved policy of a handler (kami's own routes and Litestar's get the platform's)."""
    policy: RoutePolicy = handler.opt.get(_POLICY_KEY, _PLATFORM_POLICY)
    return policy


def answered_methods(declared: Iterable[str]) -> list[str]:
    """The methods kami answers on a path whose handlers declare ``declared``, sorted: HEAD wherever
    GET is (:mod:`kami.pipeline.head`). For ``Allow`` headers."""
    methods = {m.upper() for m in declared}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def is_app_route(handler: BaseRouteHandler) -> bool:
    """Whether ``handler`` belongs to a mounted app (kami's own routes and Litestar's do not): an app's
    routes, and only they, pass through the rate limit, idempotency and the response cache."""
    return APP_KEY in handler.opt


def _handlers(app: Litestar) -> Iterator[tuple[str, BaseRouteHandler]]:
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            yield getattr(route, "path_format", route.path), handler


def resolve_route_policies(
    app: Litestar,
    app_rate_limits: dict[str, RateLimit | None],
    default_deadline: float = 0,
    access: Callable[[BaseRouteHandler], Access | None] = lambda _: None,
) -> None:
    """Check every app route's declarations and store its :class:`RoutePolicy` (call once, after the
    application is built). ``app_rate_limits`` maps each mounted app to its ``AppSpec.rate_limit``;
    ``default_deadline`` is ``KAMI_SERVER_REQUEST_TIMEOUT`` (0: none); ``access`` reads what a route
    asks of its caller from its guards (:func:`kami.security.identity.route_access`; it raises
    :class:`RouteDeclarationError` for a guard it cannot honour)."""
    problems: list[str] = []
    for path, handler in _handlers(app):
        owner = handler.opt.get(APP_KEY)
        if owner is None:
            continue  # kami's own routes and Litestar's: the platform policy
        where = f"{owner}: {'/'.join(sorted(getattr(handler, 'http_methods', ())))} {path}"
        unknown = sorted(set(handler.opt) - {OPT_KEY, APP_KEY, _POLICY_KEY})
        if unknown:
            problems.append(
                f"{where}: unknown route option {', '.join(map(repr, unknown))} "
                "(declare kami's options with opt=route_options(...))"
            )
            continue
        declared = handler.opt.get(OPT_KEY, RouteOptions())
        if not isinstance(declared, RouteOptions):
            problems.append(f"{where}: opt['kami'] must come from route_options(...), not {declared!r}")
            continue
        if getattr(handler, "cache", False):
            problems.append(
                f"{where}: Litestar's cache= replays stale envelopes; use route_options(cache=...)"
            )
            continue
        methods = set(getattr(handler, "http_methods", ()))
        if declared.cache is not None and not methods <= {"GET", "HEAD"}:
            problems.append(f"{where}: only GET routes can have a response cache")
            continue
        if declared.idempotent and not methods <= UNSAFE_METHODS:
            problems.append(f"{where}: only unsafe methods (POST, PUT, PATCH, DELETE) can be idempotent")
            continue
        deadline = declared.deadline
        if deadline is not None and (
            isinstance(deadline, bool) or not isinstance(deadline, int | float) or not deadline > 0
        ):
            problems.append(f"{where}: deadline must be a positive number of seconds, not {deadline!r}")
            continue
        rate: RateLimit | None = declared.rate_limit
        bucket = f"{owner}:{path}"
        if rate is None:
            rate, bucket = app_rate_limits.get(owner), owner
        if rate is None:
            bucket = "global"
        deadline = deadline if deadline is not None else (default_deadline or None)
        try:
            needs = access(handler)
        except RouteDeclarationError as exc:
            problems.append(f"{where}: {exc}")
            continue
        handler.opt[_POLICY_KEY] = RoutePolicy(
            owner,
            rate,
            bucket,
            declared.cache,
            declared.idempotent,
            float(deadline) if deadline else None,
            needs,
        )
    if problems:
        raise RouteDeclarationError("invalid route declarations:\n" + "\n".join(f"  {p}" for p in problems))
