"""Warnings libraries raise about their own code, which kami cannot change: silenced by module, each named.

kami's own code causes no warning (the test suite turns every other warning into an error). What a
library says about itself is listed here, matched by the library's module and the message's start,
and silenced in the servers (:func:`silence_upstream_warnings`, called where logging is configured)
and in the tests (``tests/conftest.py`` adds :func:`filterwarnings_lines`).

Overrides: Python's warning filters, for the modules and messages below only.
Upstream: sqlalchemy#12346 deprecated ``declarative_mixin`` in SQLAlchemy 2.1, and advanced-alchemy
still decorates its mixins with it (none filed there); redis-py 8.0 deprecated ``setex``, which saq's
Redis queue still calls (none filed).
Written for: SQLAlchemy 2.1.9, advanced-alchemy 1.12.0, redis 8.1.0, saq 0.26.4.
Tripwire: tests/overrides/test_upstream_warnings.py — fails once a library stops raising its warning
(then delete its entry).
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass

__all__ = ["UPSTREAM_WARNINGS", "UpstreamWarning", "filterwarnings_lines", "silence_upstream_warnings"]


@dataclass(frozen=True)
class UpstreamWarning:
    category: str  # the warning class's dotted path (what pytest's filters take)
    module: str  # a regular expression for the module the warning is raised from
    message: str  # a regular expression for the message's start (no colon: pytest splits on it)
    upstream: str

    @property
    def category_class(self) -> type[Warning]:
        module, _, name = self.category.rpartition(".")
        found: type[Warning] = getattr(importlib.import_module(module or "builtins"), name)
        return found


UPSTREAM_WARNINGS = (
    UpstreamWarning(
        "sqlalchemy.exc.SADeprecationWarning",
        r"advanced_alchemy\..*",
        "The declarative_mixin decorator was used only by the now removed mypy plugin",
        "sqlalchemy#12346; advanced-alchemy 1.12.0 still uses declarative_mixin",
    ),
    UpstreamWarning(
        "DeprecationWarning",
        r"saq\.queue\.redis",
        r"Call to deprecated setex\.",
        "redis-py 8.0 deprecated setex; saq 0.26.4 still calls it",
    ),
)


def silence_upstream_warnings() -> None:
    for entry in UPSTREAM_WARNINGS:
        warnings.filterwarnings(
            "ignore", message=entry.message, category=entry.category_class, module=entry.module
        )


def filterwarnings_lines() -> list[str]:
    """The entries as pytest ``filterwarnings`` lines (``action:message:category:module``)."""
    return [f"ignore:{e.message}:{e.category}:{e.module}" for e in UPSTREAM_WARNINGS]
