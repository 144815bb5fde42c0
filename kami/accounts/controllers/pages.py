"""The page the mailed reset link opens: a form in plain HTML (no script, nothing from elsewhere),
posted back here. A front end of its own takes its place by pointing ``KAMI_MAIL_LINK_BASE`` at itself
and calling ``POST /accounts/v1/auth/password-reset/confirm`` with the token."""

from __future__ import annotations

import html
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from kami.accounts.links import PREFIX, RESET
from kami.accounts.recovery_service import RecoveryService
from kami.accounts.schemas import PasswordResetIn
from kami.errors import KamiError

__all__ = ["ResetPage"]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Reset your password</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}
input,button{{font-size:1rem;padding:.4rem;margin:.3rem 0;width:100%}}</style></head>
<body><h1>{title}</h1><p>{text}</p>{form}</body></html>"""
_FORM = """<form method="post" action="{action}"><input type="hidden" name="token" value="{token}">
<label>New password (8 to 128 characters)
<input type="password" name="password" minlength="8" maxlength="128" required autofocus></label>
<button type="submit">Set the new password</button></form>"""


def _page(title: str, text: str, token: str = "", status: int = 200) -> Response[str]:
    form = _FORM.format(action=RESET.path, token=html.escape(token, quote=True)) if token else ""
    body = _PAGE.format(title=html.escape(title), text=html.escape(text), form=form)
    return Response(body, media_type=MediaType.HTML, status_code=status)


class ResetForm(msgspec.Struct):
    token: str = ""
    password: str = ""


class ResetPage(Controller):
    path = RESET.path.removeprefix(PREFIX)  # mounted under the slice's prefix
    include_in_schema = False  # a page for people; clients use POST /accounts/v1/auth/password-reset/confirm

    @get("/")
    async def form(self, token: Annotated[str, Parameter(min_length=1, max_length=200)]) -> Response[str]:
        return _page("Reset your password", "Choose a new password for your account.", token)

    @post("/", status_code=200)
    async def submit(
        self,
        recovery_service: NamedDependency[RecoveryService],
        data: Annotated[ResetForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        try:
            checked = msgspec.convert({"token": data.token, "password": data.password}, PasswordResetIn)
        except msgspec.ValidationError:
            return _page("Reset your password", "The password needs 8 to 128 characters.", data.token, 422)
        try:
            await recovery_service.reset_password(checked.token, checked.password)
        except KamiError as exc:
            return _page("This link does not work", exc.message, status=exc.status_code)
        return _page("Password changed", "Log in with your new password. Every other sign-in has ended.")
