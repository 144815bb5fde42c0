"""What every command does the same way: fail with an exit code, warn, read the settings. (Kept light:
``kami config`` imports it; loading apps is :mod:`kami.cli.loading`.)"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from kami.settings import Settings, SettingsError, load_settings

__all__ = ["EXIT_CONFIG", "EXIT_FAILED", "fail", "settings_or_fail", "warn"]

EXIT_FAILED = 1  # the command could not do its work
EXIT_CONFIG = 2  # invalid configuration or usage


def fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    click.secho(f"kami: {message}", fg="red", err=True)
    sys.exit(code)


def warn(message: str) -> None:
    click.secho(f"kami: warning: {message}", fg="yellow", err=True)


def settings_or_fail() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc))
