"""``kami apps`` (what is mounted, and its routes) and ``kami new-app`` (scaffold a new slice)."""

from __future__ import annotations

from pathlib import Path

import click

from kami.cli.loading import apps_or_fail
from kami.cli.output import fail, settings_or_fail
from kami.cli.scaffold import ScaffoldError
from kami.cli.scaffold import new_app as scaffold
from kami.pipeline.app import create_app

__all__ = ["apps", "new_app"]


@click.command("apps")
def apps() -> None:
    """List the mounted applications with their prefixes, routes and commands."""
    settings = settings_or_fail()
    specs = apps_or_fail(settings)
    app = create_app(settings, specs)
    for spec in specs:
        click.secho(
            f"{spec.name}  {spec.prefix}  codes {spec.code_range.start}-{spec.code_range.stop - 1}", bold=True
        )
        for route in app.routes:
            if route.path.startswith(spec.prefix):
                methods = ",".join(sorted(getattr(route, "methods", set()) - {"OPTIONS", "HEAD"}))
                click.echo(f"  {methods:<18} {route.path}")
        for command in spec.commands:
            click.echo(f"  {'command':<18} kami {command.name}: {command.get_short_help_str(70)}")


@click.command("new-app")
@click.argument("name")
@click.option("--root", type=click.Path(file_okay=False, path_type=str), default=".", help="Project folder.")
def new_app(name: str, root: str) -> None:
    """Scaffold a working app under apps/NAME, with its migration and tests."""
    try:
        written = scaffold(name, Path(root).resolve())
    except ScaffoldError as exc:
        fail(str(exc))
    for path in written:
        click.echo(f"  created {path}")
    click.secho(
        f"Mount it by adding apps.{name} to KAMI_APPS, then run: uv run pytest tests/apps/test_{name}.py",
        bold=True,
    )
