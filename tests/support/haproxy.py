"""A real HAProxy (Debian's package) balancing loopback kami instances, as a rolling update sees them."""

from __future__ import annotations

import csv
import io
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import tool_path
from tests.support.servers import free_port

__all__ = ["Balancer", "run_haproxy"]

CONFIG = """\
global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    retries 3
    option redispatch 1
    # Only a connection that never reached kami is retried: a sent request is never sent twice.
    retry-on conn-failure
    option http-server-close
    http-reuse never
    option forwardfor

frontend api
    bind 127.0.0.1:{port}
    default_backend kami

frontend stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /stats

backend kami
    balance roundrobin
    option httpchk
    http-check send meth GET uri /health/ready ver HTTP/1.1 hdr Host kami
    http-check expect status 200
    default-server inter 300ms fall 1 rise 2
{servers}
"""


@dataclass
class Balancer:
    url: str
    stats_url: str

    def states(self) -> dict[str, str]:
        """Server name -> HAProxy's status (UP, DOWN, ...), read from its CSV statistics."""
        text = httpx.get(self.stats_url + "/stats;csv", timeout=2).text.lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {r["svname"]: r["status"] for r in rows if r["pxname"] == "kami" and r["svname"] != "BACKEND"}

    def wait_for(self, server: str, status: str, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if self.states().get(server, "").startswith(status):
                    return
            except httpx.TransportError:  # HAProxy still starting
                pass
            time.sleep(0.1)
        raise AssertionError(f"HAProxy never saw {server} {status}: {self.states()}")


@contextmanager
def run_haproxy(ports: dict[str, int], folder: Path) -> Iterator[Balancer]:
    binary = tool_path("haproxy", provided_by="Debian's haproxy package")
    port, stats_port = free_port(), free_port()
    servers = "\n".join(f"    server {name} 127.0.0.1:{p} check" for name, p in ports.items())
    config = folder / "haproxy.cfg"
    config.write_text(CONFIG.format(port=port, stats_port=stats_port, servers=servers))
    check = subprocess.run([binary, "-c", "-f", str(config)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    process = subprocess.Popen(
        [binary, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    balancer = Balancer(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{stats_port}")
    try:
        for name in ports:
            balancer.wait_for(name, "UP")
        yield balancer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
