"""The ``kami`` group. A command's module is imported only when that command runs: ``kami --help``
and ``kami config`` must not pay for the web stack the server imports. An app's own commands
(``AppSpec.commands``) come from loading the apps, so they are found when named and listed by
``kami apps``, not by ``kami --help``."""

from __future__ import annotations

import importlib

import click

from kami.settings import SettingsError, get_settings, load_settings

__all__ = ["main"]

# name -> (module, attribute, one line for ``kami --help``)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": ("kami.cli.serve", "serve", "Serve kami under Granian (respawning workers, drain on SIGTERM)."),
    "worker": ("kami.cli.serve", "worker", "Run background jobs and their cron schedules from Redis."),
    "jobs": ("kami.cli.jobs", "jobs", "Dead letters of background jobs: list them, replay one."),
    "migrate": ("kami.cli.database", "migrate", "Apply every pending migration and exit."),
    "db": ("kami.cli.database", "db", "The one migration history of every app (current, revision, ...)."),
    "config": ("kami.cli.configuration", "config", "Print the effective settings (secrets masked)."),
    "reference": ("kami.cli.configuration", "reference", "The configuration and code references."),
    "apps": ("kami.cli.apps", "apps", "List the mounted apps: prefixes, routes and their own commands."),
    "new-app": ("kami.cli.apps", "new_app", "Scaffold a working app under apps/NAME."),
    "audit": ("kami.cli.audit", "audit", "The audit trail: verify its hash chain."),
    "users": ("kami.accounts.cli", "users", "Accounts: the first administrator, or an account made one."),
    "roles": ("kami.accounts.cli", "roles", "Roles as sets of the apps' declared permissions."),
}


class _KamiGroup(click.Group):
    """kami's own commands (imported on use), plus those the configured apps declare."""

    def _app_commands(self) -> dict[str, click.Command]:
        # Imported here, not above: loading the apps imports the web stack, which `kami config` and
        # `kami --help` without apps configured should not pay for (start-up time).
        from kami.app_spec import AppLoadError, load_apps

        try:
            specs = load_apps(load_settings().app.apps)
        except (SettingsError, AppLoadError):
            return {}
        return {command.name: command for spec in specs for command in spec.commands if command.name}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in _COMMANDS:
            module, attribute, _ = _COMMANDS[name]
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return self._app_commands().get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(sorted((name, summary) for name, (_, _, summary) in _COMMANDS.items()))


@click.group(
    cls=_KamiGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: 0 success, 1 a command failed, 2 invalid configuration or usage. "
    "Output is coloured on a terminal and plain when piped. Every command takes --help. "
    "Mounted apps add commands of their own: `kami apps` lists them.",
)
def main() -> None:
    """kami: one entry point for several Litestar applications."""
    get_settings.cache_clear()  # each invocation reads the environment afresh
