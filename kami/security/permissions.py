"""Permissions: declared by apps in their ``AppSpec``, gathered into roles, checked by guards.

An app declares what may be done in it (``Permission("products.write", ...)`` in App B's
``AppSpec.permissions``, named ``app-b:products.write``); a role is a set of permissions; a route's
guard asks for a permission, never for a role name. Two roles are built in: ``user`` (every permission
declared ``granted_to_users``) and ``admin`` (every permission, including those of apps mounted
later). Admins define more roles in the accounts app. A guard naming a permission no mounted app
declares stops the start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from kami.errors import NotFoundError

__all__ = [
    "ADMIN_ROLE",
    "BUILT_IN_ROLES",
    "EVERYTHING",
    "USER_ROLE",
    "Permission",
    "PermissionCatalog",
    "UndeclaredPermissionError",
]

USER_ROLE = "user"
ADMIN_ROLE = "admin"
BUILT_IN_ROLES = (USER_ROLE, ADMIN_ROLE)
EVERYTHING = "*"  # the admin role's one permission: whatever any app declares, now or later

_ACTION = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$")


class Permission:
    """What may be done in the app that declares it: ``action`` like ``orders.read-any``;
    ``granted_to_users`` puts it in the built-in ``user`` role. An app lists its permissions in its
    ``AppSpec``; mounting the app names them ``{app}:{action}`` (apps never spell their own name)."""

    __slots__ = ("_app", "action", "description", "granted_to_users")

    def __init__(self, action: str, description: str, *, granted_to_users: bool = False) -> None:
        if not _ACTION.match(action):
            raise ValueError(f"permission {action!r}: lowercase words joined by '.' (e.g. 'orders.read')")
        self.action = action
        self.description = description
        self.granted_to_users = granted_to_users
        self._app: str | None = None

    def bind(self, app: str) -> None:
        """Called when ``app``, which declares this permission, is mounted."""
        if self._app not in (None, app):
            raise UndeclaredPermissionError(f"{self.action}: declared by both {self._app} and {app}")
        self._app = app

    @property
    def name(self) -> str:
        if self._app is None:
            raise UndeclaredPermissionError(
                f"{self.action}: no mounted app declares it in AppSpec.permissions"
            )
        return f"{self._app}:{self.action}"

    def __repr__(self) -> str:
        return f"Permission({self._app or '?'}:{self.action})"

    # One object per declaration: Litestar deep-copies a controller's guards with its handlers, and a
    # copy would be a permission no app declares.
    def __copy__(self) -> Permission:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Permission:
        return self


class UndeclaredPermissionError(ValueError):
    """A permission named before any mounted app declares it, or declared by two apps."""


class PermissionCatalog:
    """Every permission the mounted apps declare, and the built-in roles' sets."""

    def __init__(self, declared: Iterable[tuple[str, Permission]]) -> None:
        """``declared``: (app, permission) for each permission of each mounted app."""
        pairs = list(declared)
        for app, permission in pairs:
            permission.bind(app)
        self.declared: Mapping[str, Permission] = {p.name: p for _, p in pairs}

    def built_in(self, role: str) -> frozenset[str] | None:
        """The permissions of a built-in role; None for any other role."""
        if role == ADMIN_ROLE:
            return frozenset({EVERYTHING})
        if role == USER_ROLE:
            return frozenset(name for name, p in self.declared.items() if p.granted_to_users)
        return None

    def check(self, names: Iterable[str]) -> None:
        """404 / 4001 unless every name is a declared permission (what a role or an API key is given):
        a reference to nothing, like an unknown role."""
        unknown = sorted(set(names) - set(self.declared))
        if unknown:
            raise NotFoundError(f"No permission named {', '.join(unknown)}")
