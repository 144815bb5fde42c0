"""docs/apps.md followed literally, as a new user would: clone, scaffold, mount, test, serve."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import tool_path, unavailable
from tests.support.servers import free_port

ROOT = Path(__file__).parents[2]


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def test_adding_an_app_from_a_clean_clone(tmp_path: Path) -> None:
    uv = tool_path("uv", provided_by="uv's installer")
    git = tool_path("git", provided_by="Debian's git package")
    if not (ROOT / ".git").exists():
        unavailable("not a git checkout: this test clones the repository")
    clone = tmp_path / "kami"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAMI_", "VIRTUAL_ENV", "UV_PROJECT"))}
    env |= {"UV_PYTHON": sys.executable, "UV_NO_PROGRESS": "1", "KAMI_DATA_DIR": str(tmp_path / "data")}
    _run([git, "clone", "--quiet", str(ROOT), str(clone)], tmp_path, env)

    # 1. scaffold  2. mount  3. test and run — the commands of docs/apps.md
    scaffolded = _run([uv, "run", "--frozen", "kami", "new-app", "shop"], clone, env)
    assert "apps/shop/controllers.py" in scaffolded
    with (clone / ".env").open("a") as dotenv:
        dotenv.write("KAMI_APPS=apps.app_a,apps.app_b,apps.shop\n")
    assert "shop  /shop" in _run([uv, "run", "--frozen", "kami", "apps"], clone, env)
    tested = _run(
        [
            uv,
            "run",
            "--frozen",
            "pytest",
            "tests/apps/test_shop.py",
            "--no-cov",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        clone,
        env,
    )
    assert "1 passed" in tested

    port = free_port()
    server = subprocess.Popen(
        [uv, "run", "--frozen", "kami", "serve", "--port", str(port), "--workers", "1"],
        cwd=clone,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = None
        for _ in range(200):
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/shop/v1/items", timeout=2).json()
                break
            except httpx.TransportError:
                if server.poll() is not None:
                    break
                time.sleep(0.2)
        assert body is not None, "kami serve did not answer"
        assert body["code"] == 0
        assert body["data"]["items"] == []
    finally:
        server.send_signal(2)
        server.wait(timeout=30)
