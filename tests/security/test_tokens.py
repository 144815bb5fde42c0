"""Tokens kami must refuse (expired, another audience or issuer, unsigned, another key, algorithm
confusion, tampered): 401, through a real route that needs a user."""

from __future__ import annotations

import time
import uuid

import jwt

from kami.settings import Settings
from tests.support.shop import Client, Shop


def test_bad_tokens_are_401(shop: Shop, client: Client, db_settings: Settings) -> None:
    account, headers = shop.user("eve")
    session = jwt.decode(headers["Authorization"].split()[1], options={"verify_signature": False})["sid"]
    key = db_settings.security.secret_key
    now = int(time.time())
    claims = {"sub": account["id"], "sid": session, "type": "access", "jti": "x", "iat": now, "iss": "kami"}
    expired = jwt.encode({**claims, "aud": "kami", "exp": now - 10}, key, algorithm="HS256")
    wrong_audience = jwt.encode({**claims, "aud": "elsewhere", "exp": now + 60}, key, algorithm="HS256")
    unsigned = jwt.encode({**claims, "aud": "kami", "exp": now + 60}, None, algorithm="none")
    other_key = jwt.encode({**claims, "aud": "kami", "exp": now + 60}, "x" * 40, algorithm="HS256")
    wrong_issuer = jwt.encode(
        {**claims, "iss": "elsewhere", "aud": "kami", "exp": now + 60}, key, algorithm="HS256"
    )
    # HS/RS confusion: a token that claims RS256 (as if the secret were a public key) is refused outright.
    _, payload, signature = jwt.encode(
        {**claims, "aud": "kami", "exp": now + 60}, key, algorithm="HS256"
    ).split(".")
    rs256 = jwt.utils.base64url_encode(b'{"alg":"RS256","typ":"JWT"}').decode()
    confused = f"{rs256}.{payload}.{signature}"
    # Tampered: a valid token with its session changed to another, signature kept.
    genuine = jwt.encode({**claims, "aud": "kami", "exp": now + 60}, key, algorithm="HS256")
    g_header, g_payload, g_signature = genuine.split(".")
    moved = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(g_payload).replace(session.encode(), b"another-session")
    ).decode()
    tampered = f"{g_header}.{moved}.{g_signature}"
    # Well signed, but for a session that does not exist (or another account's): the session ended.
    for forged in ({**claims, "sid": "no-such-session"}, {**claims, "sub": str(uuid.uuid4())}):
        token = jwt.encode({**forged, "aud": "kami", "exp": now + 60}, key, algorithm="HS256")
        answer = client.get("/accounts/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert (answer.status_code, answer.json()["code"]) == (401, 1005)
    without_session = {k: v for k, v in claims.items() if k != "sid"}
    old_style = jwt.encode({**without_session, "aud": "kami", "exp": now + 60}, key, algorithm="HS256")
    assert (
        client.get("/accounts/v1/users/me", headers={"Authorization": f"Bearer {expired}"}).json()["code"]
        == 1002
    )
    assert (
        client.get("/accounts/v1/users/me", headers={"Authorization": f"Bearer {genuine}"}).status_code == 200
    )
    for token in (
        wrong_audience,
        wrong_issuer,
        unsigned,
        other_key,
        confused,
        tampered,
        old_style,
        "garbage",
    ):
        response = client.get("/accounts/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert (response.status_code, response.json()["code"]) == (401, 1004), token
    assert client.get("/accounts/v1/users/me").status_code == 401
    assert client.get("/accounts/v1/users/me", headers={"Authorization": "Basic abc"}).status_code == 401
