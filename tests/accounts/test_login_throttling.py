"""Login throttling that cannot be turned against users, over a real server behind a trusted proxy
(the address is what ``X-Forwarded-For`` says, as in production): only failures count, per account
and address, and a success clears them."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.servers import kami_env, run_kami

LOGIN = "/accounts/v1/auth/login"
RIGHT = {"email": "target@example.com", "password": "correct horse"}
WRONG = {"email": "target@example.com", "password": "not it"}


def test_failures_lock_one_address_out_of_one_account_and_a_success_clears_them(tmp_path: Path) -> None:
    env = kami_env(tmp_path, KAMI_RATELIMIT_TRUSTED_PROXIES="127.0.0.1")
    with run_kami(env) as kami, httpx.Client(base_url=kami.url, timeout=10) as client:

        def login(body: dict[str, str], address: str) -> tuple[int, int]:
            answer = client.post(LOGIN, json=body, headers={"X-Forwarded-For": address})
            return answer.status_code, answer.json()["code"]

        account = {"email": RIGHT["email"], "username": "target", "password": RIGHT["password"]}
        assert client.post("/accounts/v1/users", json=account).status_code == 201
        ok, failed, refused = (200, 0), (200, 1001), (429, 4006)

        # Successes never count: more logins than the failure limit, from one address.
        assert [login(RIGHT, "192.0.2.1") for _ in range(12)] == [ok] * 12

        # An attacker's ten failures lock that address out of this account...
        assert [login(WRONG, "10.0.0.66") for _ in range(10)] == [failed] * 10
        blocked = client.post(LOGIN, json=RIGHT, headers={"X-Forwarded-For": "10.0.0.66"})
        assert (blocked.status_code, blocked.json()["code"]) == refused
        assert int(blocked.headers["Retry-After"]) > 0
        assert blocked.json()["data"]["retry_after"] == int(blocked.headers["Retry-After"])
        # ... and nobody else: the owner logs in from anywhere else.
        assert login(RIGHT, "192.0.2.1") == ok

        # Nine failures, a success, ten more: the success cleared the nine, so the tenth after it locks.
        assert [login(WRONG, "10.0.0.9") for _ in range(9)] == [failed] * 9
        assert login(RIGHT, "10.0.0.9") == ok
        assert [login(WRONG, "10.0.0.9") for _ in range(10)] == [failed] * 10
        assert login(RIGHT, "10.0.0.9") == refused
