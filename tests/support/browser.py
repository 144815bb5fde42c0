"""Headless Chromium driven over the DevTools protocol: open a page, run JavaScript in it, wait for it.

Chromium resolves nothing but 127.0.0.1 (``--host-resolver-rules``): a page that needs an outside
address fails here. The protocol is a websocket of JSON commands (``websockets``' blocking client).
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

__all__ = ["BLOCK_OUTSIDE", "HEADLESS", "Page", "browser_page"]

BLOCK_OUTSIDE = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
HEADLESS = [  # no sandbox (tests run as root), nothing fetched but from 127.0.0.1
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    f"--host-resolver-rules={BLOCK_OUTSIDE}",
    "--window-size=1280,1600",
]
_LISTENING = re.compile(r"DevTools listening on (ws://127\.0\.0\.1:(\d+)/\S+)")


class Page:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    def command(self, method: str, **params: Any) -> dict[str, Any]:
        sent = next(self.ids)
        self.socket.send(json.dumps({"id": sent, "method": method, "params": params}))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            reply = json.loads(self.socket.recv(timeout=30))
            if reply.get("id") == sent:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
        raise TimeoutError(method)

    def evaluate(self, script: str) -> Any:
        """The value of ``script`` (awaited if it is a promise), run in the page."""
        result = self.command("Runtime.evaluate", expression=script, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{script[:80]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, script: str, seconds: float = 30) -> Any:
        """Poll ``script`` until it gives something truthy; that value."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.evaluate(script)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"never true: {script}")

    def open(self, url: str) -> None:
        self.command("Page.navigate", url=url)


@contextmanager
def browser_page(chromium: str) -> Iterator[Page]:
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:  # Chromium may still write
        process = subprocess.Popen(
            [chromium, *HEADLESS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stderr is not None
            port = None
            deadline = time.monotonic() + 30
            while port is None and time.monotonic() < deadline:
                found = _LISTENING.search(process.stderr.readline())
                port = found.group(2) if found else None
            assert port is not None, "Chromium did not open its DevTools port"
            targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            page = next(t for t in targets if t["type"] == "page")
            with connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
                yield Page(socket)
        finally:
            process.terminate()
            process.wait(timeout=30)
