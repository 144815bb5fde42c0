"""The architecture as a contract: the import rules (import-linter, configured in pyproject.toml), and
what an import graph cannot say — how apps meet, where names come from, how overrides are fenced,
how big kami's top level is, and that the documented request order is the code's."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from kami.settings import Settings

ROOT = Path(__file__).parents[1]
MAX_LOOSE_MODULES = 12
MAX_FUNCTION_LEVEL_IMPORTS = 8
MAX_MODULE_LINES = 500
PUBLIC_MODULES = {"kami", "kami.data", "kami.cache", "kami.security", "kami.jobs", "kami.accounts"}
# Who may call COMMIT: the transaction boundary, and the schema tools' own connections (migrations, their
# lock, an engine's per-connection settings), which never carry a request's or a job's work.
COMMITTERS = {
    "kami/db/transaction.py",
    "kami/db/migrations.py",
    "kami/db/migration_lock.py",
    "kami/db/engines.py",
}


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


def test_the_import_contract_holds() -> None:
    """kami is layered (cli > pipeline > app model > security > store > observability > db > overrides
    > foundation), never imports an app, has no import cycles, and apps use only its public modules."""
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_apps_reach_each_other_only_through_services_and_errors() -> None:
    """For every app, present and future (an import contract would have to name each pair)."""
    for path in app_sources():
        parts = path.relative_to(ROOT / "apps").parts
        own = parts[0] if len(parts) > 1 else ""
        for module in imports(path):
            if module.startswith("apps.") and not module.startswith((f"apps.{own}", "apps.migrations")):
                assert module.endswith((".services", ".errors")), f"{path.relative_to(ROOT)} imports {module}"


def test_apps_import_only_kamis_public_modules() -> None:
    """``kami``, ``kami.data``, ``kami.cache``, ``kami.security``, ``kami.jobs`` and ``kami.accounts``
    themselves, never a module inside them (the import contract forbids the other packages)."""
    for path in app_sources():
        if "migrations" in path.parts:
            continue
        for module in imports(path):
            if module.split(".")[0] == "kami":
                assert module in PUBLIC_MODULES, f"{path.relative_to(ROOT)} imports {module}"


def _sources() -> list[Path]:
    return [p for p in [*(ROOT / "kami").rglob("*.py"), *app_sources()] if "docs_assets" not in p.parts]


def test_one_place_commits() -> None:
    """Services, jobs, the idempotency layer and the credential checks all commit through
    ``kami.db.transaction.transaction``: nothing else calls ``commit()``."""
    for path in _sources():
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            called = node.func if isinstance(node, ast.Call) else None
            if isinstance(called, ast.Attribute) and called.attr == "commit":
                assert relative in COMMITTERS, (
                    f"{relative}:{node.lineno} commits outside the transaction rule"
                )


def test_no_module_is_over_the_size_limit() -> None:
    sizes = {path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines()) for path in _sources()}
    too_big = {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES}
    assert not too_big, too_big


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
    from kami.app_spec import import_every_app

    names = {spec.name for spec in import_every_app()}
    assert {"app-a", "app-b"} <= names
    for path in [*app_sources(), *(ROOT / "kami").rglob("*.py")]:
        for line, text in _strings(path):
            for name in names:
                spelled = text == name or text.startswith((f"{name}:", f"{name}."))
                assert not spelled, f"{path.relative_to(ROOT)}:{line} spells the app name {name!r}: {text!r}"


def test_every_override_says_what_it_overrides_and_has_a_tripwire() -> None:
    overrides = sorted(p for p in (ROOT / "kami" / "overrides").glob("*.py") if p.name != "__init__.py")
    index = (ROOT / "kami" / "overrides" / "__init__.py").read_text()
    assert len(overrides) >= 10
    for path in overrides:
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        for field in ("Overrides:", "Upstream:", "Written for:", "Tripwire:"):
            assert field in doc, f"{path.name} does not say {field!r}"
        assert re.search(r"\d+\.\d+", doc.split("Written for:", 1)[1]), f"{path.name}: which versions?"
        tripwire = re.search(r"Tripwire: (tests/overrides/\S+\.py)", doc)
        assert tripwire, f"{path.name} names no tripwire test"
        assert (ROOT / tripwire.group(1)).is_file(), f"{path.name}: {tripwire.group(1)} does not exist"
        assert "def test_tripwire" in (ROOT / tripwire.group(1)).read_text(), tripwire.group(1)
        assert f"``{path.stem}``" in index, f"kami/overrides/__init__.py does not list {path.stem}"


def test_kami_keeps_few_loose_modules_and_few_late_imports() -> None:
    loose = sorted(p.name for p in (ROOT / "kami").glob("*.py"))
    assert len(loose) <= MAX_LOOSE_MODULES, loose
    late: list[str] = []
    for path in (ROOT / "kami").rglob("*.py"):
        source = path.read_text()
        lines = source.splitlines()
        for function in ast.walk(ast.parse(source)):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                module = node.module if isinstance(node, ast.ImportFrom) else None
                if module and module.startswith("kami"):
                    above = lines[node.lineno - 4 : node.lineno]
                    assert any("#" in line for line in above), f"{path}:{node.lineno}: say why it is late"
                    late.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert len(late) <= MAX_FUNCTION_LEVEL_IMPORTS, late


def test_the_documented_request_order_is_the_codes(sqlite_settings: Settings) -> None:
    """docs/architecture.md draws the edge wrappers, route middleware and send hooks in the order
    kami.pipeline.order builds them."""
    from kami.pipeline import order
    from kami.pipeline.app import create_app
    from kami.pipeline.runtime import runtime_of
    from kami.security.trusted_proxies import TrustedProxies

    text = (ROOT / "docs" / "architecture.md").read_text()
    diagram = text.split("```mermaid", 1)[1].split("```", 1)[0]
    drawn = re.findall(r"\[(\w+)<br/>", diagram)
    app = create_app(sqlite_settings)
    edge, layer = [], app.asgi_handler
    while type(layer).__module__.startswith("kami."):  # the wrappers kami puts around Litestar
        edge.append(type(layer).__name__)
        layer = layer.app  # type: ignore[attr-defined]
    runtime = runtime_of(app)
    routed = [type(m).__name__ for m in order.middleware(runtime)]
    routed += [type(m).__name__ for m in order.app_route_middleware(runtime, TrustedProxies([]))]
    assert [type(m).__name__ for m in app.middleware] == routed[:1]  # the rest: on app routes only
    hooks = [
        getattr(hook, "__qualname__", "").split(".")[0] for hook in order.before_send(TrustedProxies([]))
    ]
    expected = [*edge, "Litestar", *routed, "controller", "service", "repository", *hooks]
    assert [name for name in drawn if name in expected] == expected, drawn
