"""The store primitives behave the same on Redis and in memory."""

from __future__ import annotations

import asyncio

from kami.store.backend import Backend, Index


async def test_get_set_ttl_and_only_if_absent(backend: Backend, prefix: str) -> None:
    key = f"{prefix}:a"
    assert await backend.get(key) is None
    assert await backend.set(key, b"1", ttl=0.2)
    assert not await backend.set(key, b"2", only_if_absent=True)
    assert await backend.get(key) == b"1"
    await asyncio.sleep(0.3)
    assert await backend.get(key) is None
    assert await backend.set(key, b"3", only_if_absent=True)


async def test_delete_if_value_only_deletes_the_owners_value(backend: Backend, prefix: str) -> None:
    await backend.set(f"{prefix}:lock", b"mine", ttl=10)
    assert not await backend.delete_if_value(f"{prefix}:lock", b"theirs")
    assert await backend.delete_if_value(f"{prefix}:lock", b"mine")
    assert await backend.get(f"{prefix}:lock") is None


async def test_set_if_unchanged_respects_guards(backend: Backend, prefix: str) -> None:
    guard = f"{prefix}:version"
    assert await backend.set_if_unchanged(f"{prefix}:v", b"first", 10, {guard: None})
    await backend.set(guard, b"1", ttl=10)  # someone invalidated meanwhile
    assert not await backend.set_if_unchanged(f"{prefix}:v", b"stale", 10, {guard: None})
    assert await backend.set_if_unchanged(f"{prefix}:v", b"fresh", 10, {guard: b"1"})
    assert await backend.get(f"{prefix}:v") == b"fresh"


async def test_indexed_values_are_purged_with_their_set(backend: Backend, prefix: str) -> None:
    """What set_if_unchanged registers, bump_and_purge finds: tagged values go, others stay."""
    tag, version = f"{prefix}:tag", f"{prefix}:version"
    for name in ("a", "b"):
        stored = await backend.set_if_unchanged(
            f"{prefix}:value:{name}", b"x", 10, {}, Index([tag], name, 10)
        )
        assert stored
    await backend.set(f"{prefix}:value:untagged", b"y", ttl=10)
    await backend.set(f"{prefix}:plain", b"z", ttl=10)

    await backend.bump_and_purge([version], 10, [f"{prefix}:plain"], [tag], member_prefix=f"{prefix}:value:")

    assert await backend.get_many([f"{prefix}:value:a", f"{prefix}:value:b", f"{prefix}:plain"]) == [None] * 3
    assert await backend.get(f"{prefix}:value:untagged") == b"y"
    assert await backend.get(version) == b"1"
    # A value computed against the old version is refused, and so is its registration.
    assert not await backend.set_if_unchanged(
        f"{prefix}:value:a", b"stale", 10, {version: None}, Index([tag], "a", 10)
    )


async def test_sliding_window_is_exact_under_concurrency(backend: Backend, prefix: str) -> None:
    results = await asyncio.gather(*(backend.hit_window(f"{prefix}:rl", 20, 60) for _ in range(60)))
    allowed = [r for r in results if r.allowed]
    assert len(allowed) == 20
    refused = [r for r in results if not r.allowed]
    assert all(r.remaining == 0 and 0 < r.retry_after <= 60 for r in refused)
    assert sorted(r.remaining for r in allowed) == list(range(20))


async def test_sliding_window_slides(backend: Backend, prefix: str) -> None:
    key = f"{prefix}:slide"
    assert (await backend.hit_window(key, 2, 0.5)).allowed
    await asyncio.sleep(0.3)
    assert (await backend.hit_window(key, 2, 0.5)).allowed
    assert not (await backend.hit_window(key, 2, 0.5)).allowed
    await asyncio.sleep(0.25)  # the first hit has left the window, the second has not
    assert (await backend.hit_window(key, 2, 0.5)).allowed
    assert not (await backend.hit_window(key, 2, 0.5)).allowed
