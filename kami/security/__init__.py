"""Authentication and authorization shared by every app: signed tokens, login sessions, the caller's
identity, permissions and the guards that check them."""

from kami.security.api_keys import ApiKeys
from kami.security.attempts import FailureLimiter
from kami.security.identity import (
    Identity,
    current_identity,
    identity_of,
    require,
    require_flag,
    require_user,
)
from kami.security.permissions import (
    ADMIN_ROLE,
    BUILT_IN_ROLES,
    USER_ROLE,
    Permission,
    PermissionCatalog,
    UndeclaredPermissionError,
)
from kami.security.sessions import LoginSessions, SessionRecord
from kami.security.tokens import TokenClaims, TokenSigner

__all__ = [
    "ADMIN_ROLE",
    "BUILT_IN_ROLES",
    "USER_ROLE",
    "ApiKeys",
    "FailureLimiter",
    "Identity",
    "LoginSessions",
    "Permission",
    "PermissionCatalog",
    "SessionRecord",
    "TokenClaims",
    "TokenSigner",
    "UndeclaredPermissionError",
    "current_identity",
    "identity_of",
    "require",
    "require_flag",
    "require_user",
]
