"""Signed JWTs (HS256 only) with audience, issuer, expiry, a token type and the session they belong to.

Only HS256 is accepted, so ``alg: none`` and HS/RS confusion are refused by construction. A token
names its account and session only: role, tier and permissions are read from the session on each
request (:mod:`kami.security.sessions`), so an old token never carries an old role.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Literal

import jwt
import msgspec

from kami.codes import Codes
from kami.errors import AuthenticationError

__all__ = ["TokenClaims", "TokenSigner"]

TokenType = Literal["access", "refresh"]
ALGORITHM = "HS256"


class TokenClaims(msgspec.Struct, frozen=True):
    sub: str  # the account
    sid: str  # its session
    type: TokenType
    exp: int
    jti: str


class TokenSigner:
    def __init__(
        self, secret: str, *, issuer: str, audience: str, access_ttl: int = 900, refresh_ttl: int = 14 * 86400
    ):
        self._secret = secret
        self.issuer = issuer
        self.audience = audience
        self.ttl = {"access": access_ttl, "refresh": refresh_ttl}

    def issue(
        self,
        subject: str,
        session_id: str,
        token_type: TokenType = "access",
        *,
        jti: str | None = None,
        issued_at: float | None = None,
    ) -> tuple[str, TokenClaims]:
        """A signed token; with ``jti`` and ``issued_at`` given, the same bytes every time (HS256 is
        deterministic): a refresh repeated within its grace gets the very tokens the first one did."""
        now = int(time.time() if issued_at is None else issued_at)
        claims = TokenClaims(
            sub=subject,
            sid=session_id,
            type=token_type,
            exp=now + self.ttl[token_type],
            jti=jti or secrets.token_hex(16),
        )
        payload: dict[str, Any] = {
            **msgspec.to_builtins(claims),
            "iat": now,
            "iss": self.issuer,
            "aud": self.audience,
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), claims

    def verify(self, token: str, expected: TokenType = "access") -> TokenClaims:
        """The claims of a valid token; 401 with 1002 when expired, 1004 for anything else wrong."""
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss", "jti", "sid"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError(code=Codes.TOKEN_EXPIRED) from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError("Invalid token") from exc
        try:
            claims = msgspec.convert(payload, TokenClaims)
        except msgspec.ValidationError as exc:
            raise AuthenticationError("Invalid token") from exc
        if claims.type != expected:
            raise AuthenticationError(f"Expected an {expected} token")
        return claims
