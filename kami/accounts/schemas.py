"""The identity slice's request and response bodies. Output structs never carry password hashes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from kami.accounts.models import ApiKey
from kami.fields import pattern

__all__ = [
    "AccountChange",
    "AddressIn",
    "ApiKeyCreated",
    "ApiKeyIn",
    "ApiKeyInfo",
    "LoginIn",
    "PasswordConfirmation",
    "PasswordResetIn",
    "ProfileUpdate",
    "RefreshIn",
    "Registration",
    "RoleIn",
    "RoleName",
    "RoleOut",
    "SessionOut",
    "Tokens",
    "UserOut",
]

# One mailbox: no "@" in a part, nothing that lists or quotes addresses (, ; : < > ( ) [ ] \ "), no
# whitespace, no control characters. Spelled out rather than ``\s``: Python's and JavaScript's ``\s``
# disagree (U+0085), and clients check this pattern with the latter.
_EMAIL_CHAR = r'[^@,;:<>()\[\]\\"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]'
Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=320,
        pattern=pattern(
            rf"^{_EMAIL_CHAR}+@{_EMAIL_CHAR}+\.{_EMAIL_CHAR}+$", means="an email address like ada@example.com"
        ),
        examples=["ada@example.com"],
    ),
]
Username = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=50,
        pattern=pattern(r"^[A-Za-z0-9_.-]+$", means="letters, digits, '_', '.' and '-' only"),
        examples=["ada"],
    ),
]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128, examples=["correct horse battery"])]


class Registration(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    username: Username
    password: Password


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class AddressIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class PasswordResetIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="From the emailed link.")]
    password: Password


class RefreshIn(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]


class Tokens(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class UserOut(msgspec.Struct):
    id: UUID
    email: str
    username: str
    role: str
    tier: str
    status: Literal["active", "disabled", "deleted"]
    email_verified: bool
    created_at: datetime


RoleName = Annotated[
    str,
    msgspec.Meta(
        min_length=2,
        max_length=50,
        pattern=pattern(r"^[a-z][a-z0-9-]*$", means="lowercase letters, digits and '-', from a letter"),
        examples=["support"],
    ),
]
Tier = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=20,
        description="A tier named in KAMI_RATELIMIT_TIERS, or `free`.",
        examples=["premium"],
    ),
]


class AccountChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """What an admin changes; fields not sent stay as they are."""

    status: Literal["active", "disabled"] | msgspec.UnsetType = msgspec.UNSET
    role: RoleName | msgspec.UnsetType = msgspec.UNSET
    tier: Tier | msgspec.UnsetType = msgspec.UNSET


class SessionOut(msgspec.Struct):
    id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    address: str
    user_agent: str
    current: bool  # the session this request belongs to


Days = Annotated[int, msgspec.Meta(ge=1, le=3650, description="Days until the key expires.", examples=[90])]


class ApiKeyIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, examples=["nightly export"])]
    permissions: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=120)]],
        msgspec.Meta(max_length=200, description="Permissions the key carries: some of the caller's own."),
    ]
    expires_in_days: Days | msgspec.UnsetType = msgspec.UNSET  # not sent: the key does not expire


class ApiKeyInfo(msgspec.Struct, frozen=True):
    """A key as its owner sees it: never its secret."""

    id: str
    name: str
    permissions: list[str]
    tier: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyInfo:
        return cls(
            key.id,
            key.name,
            list(key.permissions),
            key.tier,
            key.created_at,
            key.expires_at,
            key.last_used_at,
        )


class ApiKeyCreated(ApiKeyInfo, frozen=True):
    """The new key. ``key`` is shown this once: only its hash is kept."""

    key: str


class RoleIn(msgspec.Struct, forbid_unknown_fields=True):
    permissions: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=120)]],
        msgspec.Meta(max_length=200, description="Declared permissions, e.g. `accounts:read`."),
    ]
    description: Annotated[str, msgspec.Meta(max_length=500)] = ""


class RoleOut(msgspec.Struct):
    name: str
    description: str
    permissions: list[str]  # `*` (the admin role): every permission
    built_in: bool


class ProfileUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Only the fields sent change; a new ``password`` needs the ``current_password``."""

    username: Username | msgspec.UnsetType = msgspec.UNSET
    password: Password | msgspec.UnsetType = msgspec.UNSET
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | msgspec.UnsetType = (
        msgspec.UNSET
    )


class PasswordConfirmation(msgspec.Struct, forbid_unknown_fields=True):
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
