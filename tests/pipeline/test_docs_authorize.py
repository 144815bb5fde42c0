"""Swagger UI's Authorize, in headless Chromium against a real ``kami serve``: a person pastes the
access token a login gave into the dialog the document's security scheme makes, opens "My account",
tries it out, and sees their account — sent with the token the dialog holds, never a header set by
hand."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.conftest import tool_path
from tests.support.browser import browser_page
from tests.support.servers import kami_env, run_kami

# React keeps an input's value in its own state: set it the way typing does, then tell React.
TYPE_INTO = """
(selector, text) => {
  const input = document.querySelector(selector);
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  setter.call(input, text);
  input.dispatchEvent(new Event('input', {bubbles: true}));
  return true;
}
"""
BEARER_DIALOG = (
    "[...document.querySelectorAll('.auth-container')].find(c => c.textContent.includes('bearerToken'))"
)
OPERATION = """
[...document.querySelectorAll('.opblock')].find(block =>
  block.querySelector('.opblock-summary-method')?.textContent === 'GET' &&
  block.querySelector('.opblock-summary-path')?.textContent.replace(/\\u200b/g, '')
    === '/accounts/v1/users/me')
"""


def test_authorize_then_try_out_my_account(tmp_path: Path) -> None:
    chromium = tool_path(
        "chromium", "chromium-browser", "google-chrome", provided_by="Debian's chromium package"
    )
    with run_kami(kami_env(tmp_path)) as kami:
        account = {"email": "docs@example.com", "username": "reader", "password": "correct horse"}
        assert httpx.post(f"{kami.url}/accounts/v1/users", json=account).status_code == 201
        login = httpx.post(
            f"{kami.url}/accounts/v1/auth/login",
            json={"email": account["email"], "password": account["password"]},
        )
        token = login.json()["data"]["access_token"]

        with browser_page(chromium) as page:
            page.open(f"{kami.url}/schema/swagger")
            page.wait_for("document.querySelector('.btn.authorize') !== null")
            page.evaluate("document.querySelector('.btn.authorize').click(), true")
            page.wait_for("document.querySelector('.auth-container input') !== null")
            dialogs = page.evaluate(
                "[...document.querySelectorAll('.auth-container h4')].map(h => h.textContent)"
            )
            assert any("bearerToken" in text for text in dialogs), dialogs
            assert any("apiKey" in text for text in dialogs), dialogs
            page.evaluate(f"({BEARER_DIALOG}).querySelector('input').id = 'kami-token', true")
            page.evaluate(f"({TYPE_INTO})('#kami-token', {json.dumps(token)})")
            page.evaluate(f"({BEARER_DIALOG}).querySelector('button.authorize').click(), true")
            page.wait_for(f"({BEARER_DIALOG}).querySelector('h6')?.textContent === 'Authorized'")
            page.evaluate(f"({BEARER_DIALOG}).querySelector('.btn-done').click(), true")
            page.wait_for("document.querySelector('.auth-container') === null")  # the dialog closed

            page.wait_for(f"({OPERATION}) !== undefined")
            lock = page.evaluate(f"({OPERATION}).querySelector('.authorization__btn svg').classList[0]")
            assert lock == "locked"  # the operation now goes out with the dialog's token
            page.evaluate(f"({OPERATION}).querySelector('.opblock-summary-control').click(), true")
            page.wait_for(f"({OPERATION}).querySelector('.try-out__btn') !== null")
            page.evaluate(f"({OPERATION}).querySelector('.try-out__btn').click(), true")
            page.wait_for(f"({OPERATION}).querySelector('.execute') !== null")
            page.evaluate(f"({OPERATION}).querySelector('.execute').click(), true")
            answer = ".live-responses-table .response-col_description pre"
            shown = page.wait_for(f"({OPERATION}).querySelector('{answer}')?.textContent")
            curl = page.evaluate(f"({OPERATION}).querySelector('.curl-command')?.textContent || ''")
    body = json.loads(shown)
    assert (body["code"], body["data"]["email"], body["data"]["username"]) == (
        0,
        "docs@example.com",
        "reader",
    )
    assert f"Authorization: Bearer {token}" in curl  # the dialog's token, sent by Swagger UI
