"""Password reset and address checks by email, over HTTP on SQLite, MariaDB and PostgreSQL, with a real
SMTP server in this process (aiosmtpd): messages go out through the background job, are retried when
the server refuses them, and the tests follow the links they carry. No answer tells whether an
address has an account."""

from __future__ import annotations

import email
import re
import time
from collections.abc import Iterator
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest
from aiosmtpd.controller import Controller
from litestar.testing import TestClient

from kami.pipeline.app import create_app
from kami.settings import MailSettings, Settings
from tests.support.servers import free_port
from tests.support.tokens import session_headers

LINK = re.compile(r"http://\S+")


class Inbox:
    """An SMTP server's mailbox; it refuses the next ``refuse`` messages (451, try later)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse = 0
        self.refused = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        if self.refuse:
            self.refuse -= 1
            self.refused += 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, count: int, seconds: float = 30) -> list[Message]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"{len(self.messages)} messages arrived, not {count}")


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    mailbox, port = Inbox(), free_port()
    server = Controller(mailbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        yield mailbox, port
    finally:
        server.stop()


@pytest.fixture
def mailing(db_settings: Settings, inbox: tuple[Inbox, int]) -> Iterator[tuple[TestClient[Any], Inbox]]:
    mail = MailSettings(host="127.0.0.1", port=inbox[1], security="none", sender="kami <kami@example.com>")
    settings = msgspec.structs.replace(db_settings, mail=mail)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, inbox[0]


def link_of(message: Message) -> Any:
    text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    return urlsplit(LINK.search(text).group(0))  # type: ignore[union-attr]


def follow(client: TestClient[Any], message: Message) -> Any:
    """Open the link the message carries (on the client's server, whatever host the link names)."""
    link = link_of(message)
    return client.get(f"{link.path}?{link.query}")


def reset_with(client: TestClient[Any], message: Message, password: str) -> Any:
    """What a front end does with the mailed token: the API's confirmation."""
    token = dict(part.split("=", 1) for part in link_of(message).query.split("&"))["token"]
    body = {"token": token, "password": password}
    return client.post("/accounts/v1/auth/password-reset/confirm", json=body)


def register(client: TestClient[Any], name: str) -> dict[str, Any]:
    body = {"email": f"{name}@example.com", "username": name, "password": "correct horse"}
    answer = client.post("/accounts/v1/users", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json()["data"])


def test_registration_mails_an_address_check_the_link_confirms_once(
    mailing: tuple[TestClient[Any], Inbox],
) -> None:
    client, inbox = mailing
    account = register(client, "pam")
    assert account["email_verified"] is False
    (message,) = inbox.wait_for(1)
    assert (message["To"], message["From"]) == ("pam@example.com", "kami <kami@example.com>")
    assert message["Subject"] == "Confirm your address"
    confirmed = follow(client, message)
    assert (confirmed.status_code, confirmed.json()["code"]) == (200, 0)
    me = client.get(f"/accounts/v1/users/{account['id']}", headers=session_headers(client))
    assert me.json()["data"]["email_verified"] is True
    again = follow(client, message)
    assert (again.status_code, again.json()["code"]) == (404, 4010)
    # Asking again for a confirmed, or an unknown, address: the same answer, and no message.
    for address in ("pam@example.com", "nobody@example.com"):
        answer = client.post("/accounts/v1/auth/verify-email/resend", json={"email": address})
        assert (answer.status_code, answer.json()["message"]) == (
            202,
            "If an account has this address, a message is on its way",
        )
    time.sleep(0.5)
    assert len(inbox.messages) == 1


def test_a_password_reset_link_sets_a_new_password_once_and_ends_every_session(
    mailing: tuple[TestClient[Any], Inbox],
) -> None:
    client, inbox = mailing
    register(client, "quin")
    inbox.wait_for(1)
    login = client.post(
        "/accounts/v1/auth/login", json={"email": "quin@example.com", "password": "correct horse"}
    )
    old = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    unknown = client.post("/accounts/v1/auth/password-reset", json={"email": "nobody@example.com"})
    known = client.post("/accounts/v1/auth/password-reset", json={"email": "Quin@example.com"})
    assert (unknown.status_code, unknown.json()["message"]) == (known.status_code, known.json()["message"])
    assert known.status_code == 202
    message = inbox.wait_for(2)[1]
    assert (message["To"], message["Subject"]) == ("quin@example.com", "Reset your password")
    time.sleep(0.5)
    assert len(inbox.messages) == 2  # nothing went to the unknown address

    reset = reset_with(client, message, "a brand new password")
    assert (reset.status_code, reset.json()["code"]) == (200, 0)
    assert client.get("/accounts/v1/users/me", headers=old).json()["code"] == 1005  # every session ended
    relog = client.post(
        "/accounts/v1/auth/login", json={"email": "quin@example.com", "password": "a brand new password"}
    )
    assert relog.json()["code"] == 0
    used = reset_with(client, message, "yet another password")
    assert (used.status_code, used.json()["code"]) == (404, 4010)
    audit = client.get(
        "/accounts/v1/audit", params={"action": "password.reset"}, headers=session_headers(client)
    )
    assert audit.json()["data"]["total"] == 1


def test_a_refused_message_is_retried_until_it_is_delivered(mailing: tuple[TestClient[Any], Inbox]) -> None:
    client, inbox = mailing
    inbox.refuse = 1
    register(client, "rex")
    (message,) = inbox.wait_for(1, seconds=60)
    assert inbox.refused == 1
    assert message["To"] == "rex@example.com"


def test_the_mailed_reset_link_opens_a_page_that_sets_the_password(
    mailing: tuple[TestClient[Any], Inbox],
) -> None:
    """A person clicks the link: a plain form (nothing loaded from elsewhere), posted back, works once;
    a newer link retires the older one."""
    client, inbox = mailing
    register(client, "sam")
    inbox.wait_for(1)
    for sent in (2, 3):  # one after the other: the second link is the newer
        asked = client.post("/accounts/v1/auth/password-reset", json={"email": "sam@example.com"})
        assert asked.status_code == 202
        inbox.wait_for(sent)
    older, newer = inbox.messages[1:3]
    page = follow(client, newer)
    assert (page.status_code, page.headers["content-type"].split(";")[0]) == (200, "text/html")
    assert "form-action 'self'" in page.headers["content-security-policy"]
    assert "<script" not in page.text
    assert "http" not in page.text.split("<body>", 1)[1]  # nothing loaded from elsewhere
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    path = link_of(newer).path
    short = client.post(path, data={"token": token, "password": "short"})
    assert (short.status_code, "8 to 128" in short.text) == (422, True)
    assert reset_with(client, older, "the older link's").json()["code"] == 4010  # retired by the newer
    done = client.post(path, data={"token": token, "password": "set from the page"})
    assert (done.status_code, "Password changed" in done.text) == (200, True)
    again = client.post(path, data={"token": token, "password": "set from the page"})
    assert (again.status_code, "does not work" in again.text) == (404, True)
    login = {"email": "sam@example.com", "password": "set from the page"}
    assert client.post("/accounts/v1/auth/login", json=login).json()["code"] == 0
