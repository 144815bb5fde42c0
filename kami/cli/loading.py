"""Loading the configured apps for a command, or failing with exit code 2 and the reason."""

from __future__ import annotations

from kami.app_spec import AppLoadError, AppSpec, load_apps
from kami.cli.output import fail
from kami.settings import Settings

__all__ = ["apps_or_fail"]


def apps_or_fail(settings: Settings) -> list[AppSpec]:
    try:
        return load_apps(settings.app.apps)
    except AppLoadError as exc:
        fail(str(exc))
