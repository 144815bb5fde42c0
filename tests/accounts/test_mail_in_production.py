"""Mail as an operator sets it up: `kami serve` and `kami worker` in production on MariaDB and Redis,
configured only by KAMI_MAIL_* variables, sending through a real SMTP server (aiosmtpd). The links
work, and no token reaches a log line, the queue or a job's stored arguments (what a dead letter keeps)."""

from __future__ import annotations

import email
import re
import subprocess
import sys
import time
from email.message import Message
from pathlib import Path
from typing import Any

import anyio
import httpx
from aiosmtpd.controller import Controller
from redis.asyncio import Redis

from kami.settings import Settings
from tests.conftest import service_url
from tests.support.redis import forget
from tests.support.servers import free_port, kami_env, run_kami

KEY = "m" * 40


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, count: int, seconds: float = 60) -> list[Message]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(self.messages) < count:
            time.sleep(0.1)
        assert len(self.messages) >= count, f"{len(self.messages)} messages, not {count}"
        return self.messages


def _token(message: Message) -> str:
    text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    link = re.search(r"https://shop\.example/accounts/v1/auth/[\w-]+\?token=([\w-]+)", text)
    assert link is not None, text
    return link.group(1)


def _queued_jobs(redis_url: str) -> list[bytes]:
    """Every value SAQ keeps in Redis (jobs with their arguments, in every state)."""

    async def run() -> list[bytes]:
        client = Redis.from_url(redis_url)
        try:
            found = []
            async for key in client.scan_iter(match="saq:*"):
                kind = (await client.type(key)).decode()
                if kind == "string":
                    found.append(await client.get(key) or b"")
                elif kind == "hash":
                    found.extend((await client.hgetall(key)).values())
            return found
        finally:
            await client.aclose()

    return anyio.run(run)


def test_mail_goes_out_through_kami_mail_settings_and_no_token_is_kept(
    tmp_path: Path, mysql_at_head: Settings
) -> None:
    redis_url = service_url("redis")
    forget(redis_url, "saq:*", "accounts:*", "ratelimit:*", "jobs:dead*")
    inbox, smtp_port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    env = kami_env(
        tmp_path,
        KAMI_ENVIRONMENT="production",
        KAMI_DATABASE_URL=mysql_at_head.database_url,
        KAMI_REDIS_URL=redis_url,
        KAMI_SECRET_KEY=KEY,
        KAMI_JOBS_PORT="0",
        KAMI_MAIL_HOST="127.0.0.1",
        KAMI_MAIL_PORT=str(smtp_port),
        KAMI_MAIL_SECURITY="none",
        KAMI_MAIL_SENDER="Shop <no-reply@shop.example>",
        KAMI_MAIL_LINK_BASE="https://shop.example",
    )
    worker_log = tmp_path / "worker.log"
    with worker_log.open("wb") as sink:
        worker = subprocess.Popen([sys.executable, "-m", "kami", "worker"], env=env, stdout=sink, stderr=sink)
    try:
        with run_kami(env) as kami, httpx.Client(base_url=kami.url, timeout=10) as client:
            person = {"email": "Pat@Example.com", "username": "pat", "password": "correct horse"}
            assert client.post("/accounts/v1/users", json=person).status_code == 201
            (check,) = inbox.wait_for(1)
            assert (check["To"], check["From"]) == ("Pat@Example.com", "Shop <no-reply@shop.example>")
            assert (
                client.get("/accounts/v1/auth/verify-email", params={"token": _token(check)}).json()["code"]
                == 0
            )

            asked = client.post("/accounts/v1/auth/password-reset", json={"email": "pat@example.com"})
            assert asked.status_code == 202
            reset = inbox.wait_for(2)[1]
            token = _token(reset)
            for value in _queued_jobs(redis_url):
                assert token.encode() not in value
                assert b"token" not in value  # the job names the address's canonical form, nothing else
            confirmed = client.post(
                "/accounts/v1/auth/password-reset/confirm", json={"token": token, "password": "pat's new one"}
            )
            assert confirmed.json()["code"] == 0
            logs = kami.output()
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        smtp.stop()
    everything = logs + worker_log.read_text(errors="replace")
    assert "mail sent" in everything  # the worker said it sent them, to whom and what
    assert "token=" not in everything
    assert token not in everything
