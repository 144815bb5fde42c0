"""Run ``kami serve`` as a real process (Granian, real workers) on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["KamiProcess", "admin_session", "free_port", "kami_env", "run_kami", "start_kami", "stop_kami"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kami_env(folder: Path, **extra: str) -> dict[str, str]:
    """The current environment without any KAMI_ variable, plus a private data folder and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAMI_")}
    base = {"KAMI_DATA_DIR": str(folder / "data"), "KAMI_ENV_FILE": str(folder / "none")}
    base["KAMI_SERVER_METRICS_PORT"] = "0"  # several servers run at once here: none takes 9100
    return {**env, **base, **extra}


@dataclass
class KamiProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_kami(
    env: dict[str, str],
    *,
    workers: int | None = 1,
    ready_path: str = "/health/live",
    port: int = 0,
    args: Sequence[str] = (),
) -> KamiProcess:
    """Start ``kami serve`` and return once ``ready_path`` answers 200 (or raise with its output).
    ``workers=None`` passes no ``--workers``: kami decides, as ``uv run kami serve`` does."""
    port = port or free_port()
    log = Path(env["KAMI_DATA_DIR"]).parent / f"kami-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kami",
                "serve",
                "--port",
                str(port),
                *(["--workers", str(workers)] if workers is not None else []),
                *args,
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    running = KamiProcess(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 40
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"kami exited with {process.returncode}:\n{running.output()}")
        try:
            if httpx.get(running.url + ready_path, timeout=2).status_code == 200:
                return running
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            stop_kami(running)
            raise RuntimeError(f"kami did not become ready in 40 s:\n{running.output()}")
        time.sleep(0.2)


def stop_kami(running: KamiProcess, sig: signal.Signals = signal.SIGINT, timeout: float = 40) -> int:
    """Signal kami (SIGINT skips the drain SIGTERM starts) and wait; kill it after ``timeout``."""
    process = running.process
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@contextmanager
def run_kami(
    env: dict[str, str],
    *,
    workers: int | None = 1,
    ready_path: str = "/health/live",
    port: int = 0,
    args: Sequence[str] = (),
) -> Iterator[KamiProcess]:
    running = start_kami(env, workers=workers, ready_path=ready_path, port=port, args=args)
    try:
        yield running
    finally:
        stop_kami(running)


def admin_session(kami: KamiProcess, env: dict[str, str]) -> dict[str, str]:
    """Bearer headers of an administrator of the server ``kami`` (started with ``env``): made by
    ``kami users create-admin`` on its database, then logged in over HTTP like anyone else — the way
    to a session in a server whose store is its own memory."""
    email, password = "root@example.com", "admin password"
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "kami",
            "users",
            "create-admin",
            "--email",
            email,
            "--username",
            "root",
            "--password",
            password,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0 or "exists" in made.stderr, made.stderr
    login = httpx.post(
        f"{kami.url}/accounts/v1/auth/login", json={"email": email, "password": password}, timeout=20
    )
    return {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
