"""``kami config`` (the effective settings, or ``.env.example``) and ``kami reference`` (the generated
configuration and business-code references)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kami.cli.output import EXIT_FAILED, fail, settings_or_fail
from kami.settings import env_example, masked

__all__ = ["config", "reference"]


@click.command("config")
@click.option("--example", is_flag=True, help="Print .env.example (every variable with its default) instead.")
def config(example: bool) -> None:
    """Print the effective settings (secrets masked); exit 2 if they are invalid."""
    if example:
        click.echo(env_example(), nl=False)
        return
    click.echo(json.dumps(masked(settings_or_fail()), indent=2, sort_keys=True))


@click.command("reference")
@click.option(
    "--write",
    "folder",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Write docs/configuration.md, docs/codes.md and infra/observability/slo-alerts.yaml under this "
    "project root (e.g. .).",
)
@click.option("--check", is_flag=True, help="Exit 1 if the files under --write's root are out of date.")
def reference(folder: str | None, check: bool) -> None:
    """The configuration and business-code references and the SLO alert rules, generated from the code."""
    # Imported here: the code table needs every app loaded, which `kami config` must not pay for.
    from kami.cli.reference import references, write_references

    generated = references()
    if folder is None:
        click.echo("\n".join(generated.values()))
        return
    target = Path(folder)
    if check:
        stale = [
            n
            for n, text in generated.items()
            if not (target / n).is_file() or (target / n).read_text() != text
        ]
        if stale:
            fail(
                f"out of date in {target}: {', '.join(stale)} (run: kami reference --write {folder})",
                code=EXIT_FAILED,
            )
        click.echo(f"{target}: up to date")
        return
    for path in write_references(target):
        click.echo(f"  wrote {path}")
