"""What SQLAlchemy's connection pools know but do not expose: their overflow limit and recycle time.

kami reads them to size the lean path's autocommit pool like the session's (kami.db.precompiled) and
to report a pool's capacity (size + overflow) in ``kami_db_pool_connections``.

Overrides: reads ``QueuePool._max_overflow`` and ``Pool._recycle`` (private attributes; the public
API has ``size()``, ``checkedout()``, ``overflow()`` only).
Upstream: none filed.
Written for: SQLAlchemy 2.1.9.
Tripwire: tests/overrides/test_pool_internals.py — fails when the attributes are renamed or stop
meaning what the engine was created with.
"""

from __future__ import annotations

from typing import Any

__all__ = ["max_overflow", "recycle_seconds"]


def max_overflow(pool: Any) -> int:
    """Connections the pool may open beyond its size (0 for pools without overflow)."""
    return max(int(getattr(pool, "_max_overflow", 0)), 0)


def recycle_seconds(pool: Any) -> int:
    """Seconds after which the pool replaces a connection (-1: never)."""
    return int(getattr(pool, "_recycle", -1))
