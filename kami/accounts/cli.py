"""``kami users ...`` and ``kami roles ...``: the identity slice's command line. Changes reach live
sessions through the configured store; with the embedded in-memory store the sessions are the server
process's own and out of reach, so changes then apply to sessions opened afterwards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import click
import msgspec
from advanced_alchemy.exceptions import IntegrityError

from kami.accounts.account_service import COMMAND_LINE, AccountService
from kami.accounts.provider import IdentityProvider
from kami.accounts.role_service import RoleService
from kami.accounts.schemas import Registration, RoleIn
from kami.accounts.slice import with_accounts
from kami.app_spec import load_apps, permission_catalog
from kami.db.audit import AuditContext, AuditTrail
from kami.db.config import build_sqlalchemy_config
from kami.errors import KamiError
from kami.settings import get_settings
from kami.store.client import build_backend

__all__ = ["roles", "users"]

T = TypeVar("T")


def _run(action: Callable[[AccountService, RoleService], Awaitable[T]]) -> T:
    """Run ``action`` with the services on one database session and the servers' login sessions."""

    async def run() -> T:
        settings = get_settings()
        backend = build_backend(settings)
        database = build_sqlalchemy_config(settings)
        catalog = permission_catalog(with_accounts(load_apps(settings.app.apps)))
        provider = IdentityProvider.build(settings, backend, database.get_session, catalog)
        try:
            async with database.get_session() as session:
                audit = AuditTrail(session, AuditContext(actor="cli"))
                accounts = provider.account_service(session, audit, recovery=None)
                return await action(accounts, accounts.roles)
        finally:
            await backend.close()
            await database.get_engine().dispose()

    try:
        return anyio.run(run)
    except KamiError as exc:
        raise click.ClickException(exc.message) from exc


@click.group("users")
def users() -> None:
    """Manage accounts."""


@users.command("create-admin")
@click.option("--email", required=True)
@click.option("--username", help="For a new account.")
@click.option("--password", help="For a new account (asked for when not given).")
@click.option("--promote", is_flag=True, help="Make the existing account with this email an administrator.")
def create_admin(email: str, username: str | None, password: str | None, promote: bool) -> None:
    """Create an administrator account (the first admin is made this way), or with --promote make an
    existing account one."""
    if promote:
        user = _run(lambda accounts, _: accounts.promote(email))
        if user is None:
            raise click.ClickException(f"no account with email {email}")
        click.echo(f"{user.username} ({email}) is now an admin")
        return
    if not username:
        raise click.UsageError("--username is needed for a new account (or --promote an existing one)")
    password = password or click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = msgspec.convert({"email": email, "username": username, "password": password}, Registration)
    except msgspec.ValidationError as exc:
        raise click.BadParameter(str(exc)) from exc
    try:
        created = _run(lambda accounts, _: accounts.register(data, role="admin"))
    except IntegrityError as exc:  # DuplicateKeyError, or a bare unique violation (PostgreSQL)
        raise click.ClickException(
            f"an account with email {email} or username {username} exists (--promote makes it an admin)"
        ) from exc
    click.echo(f"admin {username} created with id {created.id}")


@click.group("roles")
def roles() -> None:
    """Define the roles admins give accounts (``user`` and ``admin`` are built in)."""


@roles.command("list")
def list_roles() -> None:
    """Every role and its permissions."""
    for role in _run(lambda _, role_service: role_service.roles()):
        click.echo(f"{role.name}: {' '.join(role.permissions) or '-'}")


@roles.command("define")
@click.argument("name")
@click.option("--permission", "permissions", multiple=True, help="A declared permission (repeat the option).")
@click.option("--description", default="")
def define_role(name: str, permissions: tuple[str, ...], description: str) -> None:
    """Create or replace role NAME with these permissions; its holders' sessions change at once."""
    data = RoleIn(permissions=list(permissions), description=description)
    role = _run(lambda _, role_service: role_service.define(COMMAND_LINE, name, data))
    click.echo(f"role {role.name}: {' '.join(role.permissions) or '-'}")


@roles.command("remove")
@click.argument("name")
def remove_role(name: str) -> None:
    """Remove role NAME (refused while an account holds it)."""
    _run(lambda _, role_service: role_service.remove(name))
    click.echo(f"role {name} removed")
