"""``kami worker`` as operators run it: probes and metrics on its own port, dead letters listed and
replayed with ``kami jobs``, and a quick stop when idle — a real worker process on real Redis."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
from click.testing import CliRunner, Result
from litestar.testing import TestClient

from kami.cli import main
from kami.jobs.dead_letters import read_all
from kami.pipeline.app import create_app
from kami.settings import load_settings
from kami.store.backend import RedisBackend
from kami.store.pipelined import PipelinedRedis
from tests.conftest import service_url
from tests.support.redis import forget
from tests.support.servers import free_port, kami_env


def _wait(condition: str, check: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {condition}")


def _kami(env: dict[str, str], *args: str) -> Result:
    """A ``kami`` command in this process (the worker is the real process under test here)."""
    return CliRunner().invoke(main, list(args), env=env)


def _sample(text: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return None


def test_worker_probes_metrics_dead_letters_and_replay(tmp_path: Path) -> None:
    redis_url = service_url("redis")
    forget(redis_url, "saq:kami:*", "jobs:dead*")
    port = free_port()
    env = kami_env(
        tmp_path,
        KAMI_APPS="tests.support.jobbed_app",
        KAMI_REDIS_URL=redis_url,
        KAMI_JOBS_PORT=str(port),
        KAMI_DATABASE_AUTO_MIGRATE="false",
    )
    worker_url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "kami", "worker"], env=env, stdout=log, stderr=log)

    def live() -> bool:
        try:
            return httpx.get(worker_url + "/health/live", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def dead_letters() -> list[dict[str, object]]:
        listed = _kami(env, "jobs", "dead", "--json")
        assert listed.exit_code == 0, listed.output
        return [json.loads(line) for line in listed.stdout.splitlines()]

    def dead_keys() -> list[str]:  # polled: read directly, not through a command per poll
        async def read() -> list[str]:
            backend = RedisBackend(PipelinedRedis.from_url(redis_url))
            try:
                return [letter.key for letter in await read_all(backend)]
            finally:
                await backend.close()

        return anyio.run(read)

    try:
        _wait("the worker's liveness probe", live)
        settings = load_settings({**env, "KAMI_APPS": "tests.support.jobbed_app"})
        with TestClient(create_app(settings)) as client:
            first = client.post("/jobbed/fail/7").json()["data"]
        _wait("a dead letter", lambda: dead_keys() == [first])
        (letter,) = dead_letters()
        assert letter["key"] == first
        assert letter["function"] == "jobbed.always_fails"
        assert letter["kwargs"] == {"order": 7}
        assert letter["attempts"] == 2
        assert "refused order 7" in str(letter["error"])

        def metrics() -> str:
            return httpx.get(worker_url + "/metrics", timeout=2).text

        _wait("the dead letter in kami_jobs", lambda: _sample(metrics(), "kami_jobs", state="dead") == 1)
        text = metrics()
        runs = _sample(
            text, "kami_job_duration_seconds_count", function="jobbed.always_fails", outcome="failed"
        )
        assert runs == 2  # both attempts, each timed
        assert _sample(text, "kami_jobs", state="queued") == 0
        assert (
            _sample(text, "kami_events_total", event="jobs_dead", label="function=jobbed.always_fails") == 1
        )

        replayed = _kami(env, "jobs", "replay", first)
        assert replayed.exit_code == 0, replayed.output
        second = replayed.stdout.split(" as ")[1].strip()
        assert second != first
        # The replay ran the same job with the same arguments: it failed again, as a new letter.
        _wait("the replayed job's dead letter", lambda: dead_keys() == [second])
        assert dead_letters()[0]["kwargs"] == {"order": 7}

        again = _kami(env, "jobs", "replay", first)
        assert again.exit_code == 1
        assert "no dead letter" in again.stderr

        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        stopped_in = time.monotonic() - started
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        log.close()
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()
    assert stopped_in < 10, f"an idle worker took {stopped_in:.1f} s to stop"


def test_jobs_command_needs_redis(tmp_path: Path) -> None:
    result = _kami(kami_env(tmp_path), "jobs", "dead")
    assert result.exit_code == 2
    assert "KAMI_REDIS_URL" in result.stderr
