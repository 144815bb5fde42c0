"""Every docs page at /schema renders in headless Chromium with all outside addresses blocked.

Chromium resolves nothing but 127.0.0.1 (``--host-resolver-rules``), so a page that still needed a CDN,
a font service or a favicon host would come up without its operations. One screenshot per page is
kept in ``docs/``; ``KAMI_UPDATE_DOC_SCREENSHOTS=1`` makes this test refresh them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import tool_path
from tests.support.browser import HEADLESS
from tests.support.servers import kami_env, run_kami

ROOT = Path(__file__).parents[2]
# Text each page renders from the document once its JavaScript ran (Scalar starts with groups folded).
PAGES = {
    "swagger": ["List products", "Place an order"],
    "redoc": ["List products", "Place an order"],
    "scalar": ["Liveness probe", "App B: catalogue"],
}


def _chromium() -> str:
    return tool_path("chromium", "chromium-browser", "google-chrome", provided_by="Debian's chromium package")


def _browse(browser: str, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, *HEADLESS, "--virtual-time-budget=15000", *extra, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def docs_url(tmp_path_factory: pytest.TempPathFactory) -> object:
    with run_kami(kami_env(tmp_path_factory.mktemp("docs"))) as kami:
        yield f"{kami.url}/schema"


@pytest.mark.parametrize("page", sorted(PAGES))
def test_docs_page_renders_offline(page: str, docs_url: str, tmp_path: Path) -> None:
    browser = _chromium()
    dom = _browse(browser, f"{docs_url}/{page}", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = re.sub(r"<script.*?</script>", "", dom.stdout, flags=re.S)  # not the embedded document
    for text in PAGES[page]:
        assert text in rendered, f"{page}: {text!r} not rendered offline\n{rendered[:2000]}"
    shot = tmp_path / f"docs-{page}.png"
    taken = _browse(browser, f"{docs_url}/{page}", f"--screenshot={shot}")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.stat().st_size > 20_000  # a blank page is about 9 KB
    if os.environ.get("KAMI_UPDATE_DOC_SCREENSHOTS") == "1":
        shutil.copyfile(shot, ROOT / "docs" / shot.name)
