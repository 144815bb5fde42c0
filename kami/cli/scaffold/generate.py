"""Write a new app's files and its migration into a project folder."""

from __future__ import annotations

import importlib
import re
import tempfile
from pathlib import Path

from kami.app_spec import import_every_app
from kami.cli.scaffold.templates import TEMPLATES
from kami.db.migrations import alembic_commands, upgrade
from kami.settings import load_settings

__all__ = ["ScaffoldError", "new_app"]

NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
BLOCK = 10000


class ScaffoldError(ValueError):
    """The name is unusable or the app already exists."""


def _next_code_range(apps_dir: Path) -> int:
    """The first 10000-block above every block the apps in ``apps_dir`` reserve."""
    highest = BLOCK
    for init in apps_dir.glob("*/__init__.py"):
        for start, stop in re.findall(r"code_range=range\((\d+),\s*(\d+)\)", init.read_text()):
            highest = max(highest, int(stop), int(start) + BLOCK)
    return (highest + BLOCK - 1) // BLOCK * BLOCK


def new_app(name: str, root: Path) -> list[Path]:
    """Create ``apps/<name>`` and its tests under ``root``, then its migration; return the files written."""
    if not NAME.match(name):
        raise ScaffoldError(
            f"{name!r}: use 2-31 lowercase letters, digits or underscores, starting with a letter"
        )
    package = root / "apps" / name
    if package.exists():
        raise ScaffoldError(f"{package} already exists")
    start = _next_code_range(root / "apps")
    values = {
        "name": name,
        "slug": name.replace("_", "-"),
        "title": name.replace("_", " ").title(),
        "Model": "".join(part.title() for part in name.split("_")) + "Item",
        "start": start,
        "stop": start + BLOCK,
    }
    written: list[Path] = []
    for template_path, template in TEMPLATES.items():
        path = root / template_path.format(**values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values))
        written.append(path)
    for package_marker in (root / "tests" / "__init__.py", root / "tests" / "apps" / "__init__.py"):
        if not package_marker.exists():
            package_marker.write_text("")
    written.append(_write_migration(name, root))
    return written


def _write_migration(name: str, root: Path) -> Path:
    """Autogenerate the new app's revision against a scratch SQLite database at the current head."""
    importlib.invalidate_caches()
    import_every_app()  # the new app's models, and every other app's
    with tempfile.TemporaryDirectory() as scratch:
        settings = load_settings({"KAMI_DATA_DIR": scratch, "KAMI_ENV_FILE": str(Path(scratch) / "none")})
        upgrade(settings)  # a scratch database at the current head...
        script = alembic_commands(settings).revision(  # ...and the difference the new app's models make
            message=f"{name} tables", autogenerate=True
        )
    path = getattr(script, "path", None)
    if path is None:
        raise ScaffoldError("the migration could not be generated")
    return Path(path)
