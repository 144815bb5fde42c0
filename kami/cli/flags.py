"""``kami flags set / get / delete``: feature flags in the shared store, read by running processes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import click
import msgspec

from kami.cli.output import EXIT_FAILED, fail, settings_or_fail
from kami.store.client import build_backend
from kami.store.flags import FeatureFlags, Flag

__all__ = ["flags"]

T = TypeVar("T")


@click.group("flags")
def flags() -> None:
    """Feature flags in the shared store (needs KAMI_REDIS_URL to reach running processes)."""


def _with_flags(action: Callable[[FeatureFlags], Awaitable[T]]) -> T:
    settings = settings_or_fail()
    if not settings.redis.url:
        click.secho(
            "kami: no KAMI_REDIS_URL: flags set here live only in this command", fg="yellow", err=True
        )

    async def run() -> T:
        store = FeatureFlags(build_backend(settings))
        try:
            return await action(store)
        finally:
            await store.backend.close()

    return anyio.run(run)


@flags.command("set")
@click.argument("name")
@click.option("--on/--off", "enabled", default=True, help="Globally on or off.")
@click.option("--app", "apps", multiple=True, help="Per-app override: APP=on|off (repeatable).")
@click.option(
    "--percentage", type=click.IntRange(0, 100), default=None, help="Roll out to this share of callers."
)
def flags_set(name: str, enabled: bool, apps: tuple[str, ...], percentage: int | None) -> None:
    """Create or replace a flag."""
    overrides: dict[str, bool] = {}
    for item in apps:
        app, _, value = item.partition("=")
        if value not in ("on", "off"):
            raise click.BadParameter(f"{item!r}: expected APP=on or APP=off", param_hint="--app")
        overrides[app] = value == "on"
    flag = Flag(enabled=enabled, apps=overrides, percentage=percentage)
    _with_flags(lambda store: store.set(name, flag))
    click.echo(f"{name}: {json.dumps(msgspec.to_builtins(flag))}")


@flags.command("get")
@click.argument("name")
def flags_get(name: str) -> None:
    """Show one flag (exit 1 if it does not exist)."""
    flag = _with_flags(lambda store: store.get(name))
    if flag is None:
        fail(f"no flag named {name!r}", code=EXIT_FAILED)
    click.echo(json.dumps(msgspec.to_builtins(flag)))


@flags.command("delete")
@click.argument("name")
def flags_delete(name: str) -> None:
    """Remove a flag (it then reads as off)."""
    if not _with_flags(lambda store: store.delete(name)):
        fail(f"no flag named {name!r}", code=EXIT_FAILED)
    click.echo(f"{name} deleted")
