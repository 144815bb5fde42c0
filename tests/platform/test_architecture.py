"""The layering rules, checked on the source: apps use kami's public API and never each other's data."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from kami.settings import Settings

ROOT = Path(__file__).parents[2]
PUBLIC_KAMI = {"kami", "kami.data", "kami.cache", "kami.security", "kami.jobs"}
MIGRATION_RUNNER = "kami.db.migrations"  # apps/migrations/env.py hands over to kami's runner


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def app_sources() -> list[Path]:
    return [p for p in (ROOT / "apps").rglob("*.py") if "versions" not in p.parts]


def test_apps_use_only_the_public_kami_api() -> None:
    for path in app_sources():
        for module in imports(path):
            if module.startswith("kami"):
                allowed = PUBLIC_KAMI | ({MIGRATION_RUNNER} if path.name == "env.py" else set())
                assert module in allowed, f"{path.relative_to(ROOT)} imports {module}"


def test_apps_reach_each_other_only_through_services() -> None:
    for path in app_sources():
        parts = path.relative_to(ROOT / "apps").parts
        own = parts[0] if len(parts) > 1 else ""
        for module in imports(path):
            if module.startswith("apps.app_") and not module.startswith(f"apps.{own}"):
                assert module.endswith((".services", ".errors")), f"{path.relative_to(ROOT)} imports {module}"


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a module with its line, except the ``name=`` of an ``AppSpec(...)``."""
    tree = ast.parse(path.read_text())
    spec_names = {
        id(keyword.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "AppSpec"
        for keyword in node.keywords
        if keyword.arg == "name"
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in spec_names
    ]


def test_an_app_is_named_only_by_its_spec() -> None:
    """Store namespaces, cache keys, lock names, job names and error owners are derived from each
    app's ``AppSpec``: no source spells an app's name (``"app-b"``, ``"app-b:..."``) anywhere else."""
    from kami.app_spec import AppSpec, import_every_app

    import_every_app()
    names = {
        spec.name
        for module in list(sys.modules.values())
        if (module.__name__ or "").startswith("apps.") and isinstance(getattr(module, "app", None), AppSpec)
        for spec in [module.app]
    }
    assert {"app-a", "app-b"} <= names
    for path in [*app_sources(), *(ROOT / "kami").rglob("*.py")]:
        for line, text in _strings(path):
            for name in names:
                spelled = text == name or text.startswith((f"{name}:", f"{name}."))
                assert not spelled, f"{path.relative_to(ROOT)}:{line} spells the app name {name!r}: {text!r}"


def test_kami_never_names_an_app() -> None:
    for path in (ROOT / "kami").rglob("*.py"):
        for module in imports(path):
            assert not module.startswith("apps.app_"), f"{path.relative_to(ROOT)} imports {module}"


def test_architecture_diagram_matches_the_request_path(sqlite_settings: Settings) -> None:
    """docs/architecture.md's diagram names the edge wrappers and middleware in the order they run."""
    from kami.pipeline.app import create_app

    text = (ROOT / "docs" / "architecture.md").read_text()
    diagram = text.split("```mermaid", 1)[1].split("```", 1)[0]
    drawn = re.findall(r"\[(AccessLog|\w+Middleware)<br/>", diagram)
    app = create_app(sqlite_settings)
    edge = [type(app.asgi_handler).__name__, type(app.asgi_handler.app).__name__]  # type: ignore[attr-defined]
    routed = [type(m).__name__ for m in app.middleware]
    assert drawn == edge + routed
