"""JSON log lines from a real ``kami serve``: fields, trace ids matching responses, no secrets."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.servers import kami_env, run_kami
from tests.support.waiting import wait_until

PASSWORD = "very secret password 42"


def test_json_access_and_app_logs(tmp_path: Path) -> None:
    env = kami_env(tmp_path, KAMI_LOG_FORMAT="json", KAMI_RATELIMIT_TRUSTED_PROXIES="127.0.0.1")
    with run_kami(env) as kami:
        registered = httpx.post(
            f"{kami.url}/accounts/v1/users",
            json={"email": "log@example.com", "username": "logger", "password": PASSWORD},
        )
        assert registered.status_code == 201
        # Development without an SMTP server logs the mail: its address check is the way to a key.
        assert wait_until(lambda: "verify-email?token=" in kami.output(), 20)
        link = re.search(r"(/accounts/v1/auth/verify-email\?token=[\w-]+)", kami.output()).group(1)  # type: ignore[union-attr]
        assert httpx.get(f"{kami.url}{link}").json()["code"] == 0
        login = httpx.post(
            f"{kami.url}/accounts/v1/auth/login", json={"email": "log@example.com", "password": PASSWORD}
        )
        token = login.json()["data"]["access_token"]
        missing = httpx.get(f"{kami.url}/no/such/route", headers={"Authorization": f"Bearer {token}"})
        made = httpx.post(
            f"{kami.url}/accounts/v1/api-keys",
            json={"name": "logged", "permissions": ["app-a:orders.read"]},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["data"]
        by_key = httpx.get(f"{kami.url}/app-a/v1/orders", headers={"X-API-Key": made["key"]})
        assert by_key.status_code == 200, by_key.text
        wrong_method = httpx.delete(f"{kami.url}/health/live")
        forwarded = httpx.get(f"{kami.url}/health/live", headers={"X-Request-Id": "caller-id-1"})
    lines = [json.loads(line) for line in kami.output().splitlines() if line.startswith("{")]
    assert lines, kami.output()
    for line in lines:
        assert {"timestamp", "level", "logger", "event", "service.name"} <= set(line), line
    assert any(line["logger"] == "_granian" for line in lines)  # Granian's own lines, same format
    access = [line for line in lines if line["logger"] == "kami.access"]
    by_trace = {line["trace_id"]: line for line in access}
    assert by_trace[missing.json()["trace_id"]]["status"] == 404
    assert by_trace[missing.json()["trace_id"]]["route"] == "unmatched route"
    assert by_trace[wrong_method.json()["trace_id"]]["status"] == 405
    login_line = by_trace[login.json()["trace_id"]]
    assert login_line["route"] == "/accounts/v1/auth/login"
    assert isinstance(login_line["duration_ms"], float)
    assert login_line["request_id"] == login.headers["x-request-id"]
    assert forwarded.headers["x-request-id"] == "caller-id-1"  # the peer is a trusted proxy
    assert by_trace[by_key.json()["trace_id"]]["api_key"] == made["id"]  # the key's id, never its secret
    text = kami.output()
    assert PASSWORD not in text
    assert token not in text
    assert made["key"] not in text
    assert "authorization" not in text.lower()


def test_untrusted_request_ids_are_replaced(tmp_path: Path) -> None:
    with run_kami(kami_env(tmp_path)) as kami:
        response = httpx.get(f"{kami.url}/health/live", headers={"X-Request-Id": "spoofed"})
    assert response.headers["x-request-id"] != "spoofed"
    assert len(response.headers["x-request-id"]) == 36


def test_a_library_warning_is_a_structured_line(tmp_path: Path) -> None:
    """A warning raised in a configured process (PyJWT's short-key warning, say) is logged, not printed."""
    script = (
        "import warnings\n"
        "from kami.observability.logging import configure_logging\n"
        "from kami.settings import load_settings\n"
        "configure_logging(load_settings({'KAMI_LOG_FORMAT': 'json', 'KAMI_ENV_FILE': 'absent'}))\n"
        "warnings.warn('a library says something', UserWarning)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    (line,) = done.stderr.strip().splitlines()
    event = json.loads(line)
    assert event["logger"] == "py.warnings"
    assert event["level"] == "warning"
    assert "UserWarning: a library says something" in event["event"]
