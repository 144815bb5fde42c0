"""Reads the request's credentials once, before anything counts or remembers per caller.

What the credentials are worth is the identity provider's to say (:mod:`kami.accounts.provider`: an
access token and its session, or an API key); this layer asks it once per request on the apps' routes
and leaves the outcome in the scope: a route that needs a caller answers the error, one that does not
serves an anonymous caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from kami.pipeline.layer import Layer
from kami.security.identity import Credentials, remember_credentials

__all__ = ["AuthenticationMiddleware", "CredentialCheck"]

CredentialCheck = Callable[[ASGIConnection[Any, Any, Any, Any]], Awaitable[Credentials]]


class AuthenticationMiddleware(Layer):
    scopes = (ScopeType.HTTP,)

    def __init__(self, check: CredentialCheck) -> None:
        self.check = check

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        remember_credentials(connection, await self.check(connection))
        await next_app(scope, receive, send)
