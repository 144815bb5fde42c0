"""Dependencies resolve one after another, in the request's own task, before what needs them."""

from __future__ import annotations

import asyncio

from litestar import Litestar, get
from litestar.di import NamedDependency, Provide
from litestar.testing import TestClient

from kami.overrides.dependency_order import resolve_dependencies_in_order


def _app(events: list[str]) -> Litestar:
    async def first() -> int:
        events.append(f"first {id(asyncio.current_task())}")
        return 1

    async def second() -> int:
        events.append(f"second {id(asyncio.current_task())}")
        return 2

    async def both(first: NamedDependency[int], second: NamedDependency[int]) -> int:
        events.append(f"both {id(asyncio.current_task())}")
        return first + second

    @get("/")
    async def handler(
        first: NamedDependency[int], second: NamedDependency[int], both: NamedDependency[int]
    ) -> dict[str, int]:
        events.append(f"handler {id(asyncio.current_task())}")
        return {"sum": first + second + both}

    return Litestar(
        route_handlers=[handler],
        dependencies={"first": Provide(first), "second": Provide(second), "both": Provide(both)},
    )


def test_dependencies_share_the_request_task_and_keep_their_order() -> None:
    events: list[str] = []
    app = _app(events)
    resolve_dependencies_in_order(app)
    with TestClient(app) as client:
        assert client.get("/").json() == {"sum": 6}
    names = [event.split()[0] for event in events]
    tasks = {event.split()[1] for event in events}
    assert len(tasks) == 1, events  # no task per dependency
    assert names.index("both") > max(names.index("first"), names.index("second"))
    assert names[-1] == "handler"


def test_tripwire_without_it_litestar_spawns_a_task_per_dependency() -> None:
    """The behaviour the rewrite removes (if Litestar stops doing this, the rewrite can go)."""
    events: list[str] = []
    with TestClient(_app(events)) as client:
        assert client.get("/").json() == {"sum": 6}
    assert len({event.split()[1] for event in events}) > 1
