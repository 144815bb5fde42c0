"""Authentication primitives shared by every app: signed tokens, the caller's identity, guards."""

from kami.security.attempts import FailureLimiter
from kami.security.identity import (
    Identity,
    current_identity,
    identity_of,
    require_admin,
    require_flag,
    require_user,
)
from kami.security.tokens import TokenClaims, TokenSigner

__all__ = [
    "FailureLimiter",
    "Identity",
    "TokenClaims",
    "TokenSigner",
    "current_identity",
    "identity_of",
    "require_admin",
    "require_flag",
    "require_user",
]
