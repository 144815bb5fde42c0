"""``kami users ...``: App A's command line."""

from __future__ import annotations

import anyio
import click
from advanced_alchemy.exceptions import IntegrityError

from apps.app_a.schemas import Registration
from apps.app_a.services import AccountService
from kami.data import session_scope

__all__ = ["users"]


@click.group("users")
def users() -> None:
    """Manage App A's accounts."""


@users.command("create-admin")
@click.option("--email", required=True)
@click.option("--username", help="For a new account.")
@click.option("--password", help="For a new account (asked for when not given).")
@click.option("--promote", is_flag=True, help="Make the existing account with this email an administrator.")
def create_admin(email: str, username: str | None, password: str | None, promote: bool) -> None:
    """Create an administrator account (the first admin is made this way), or with --promote make an
    existing account one."""
    if promote:
        _promote(email)
        return
    if not username:
        raise click.UsageError("--username is needed for a new account (or --promote an existing one)")
    password = password or click.prompt("Password", hide_input=True, confirmation_prompt=True)
    import msgspec

    try:
        data = msgspec.convert({"email": email, "username": username, "password": password}, Registration)
    except msgspec.ValidationError as exc:
        raise click.BadParameter(str(exc)) from exc

    async def run() -> str:
        async with session_scope() as session:
            user = await AccountService(session=session).register(data, role="admin")
            return str(user.id)

    try:
        user_id = anyio.run(run)
    except IntegrityError as exc:  # DuplicateKeyError, or a bare unique violation (PostgreSQL)
        raise click.ClickException(
            f"an account with email {email} or username {username} exists (--promote makes it an admin)"
        ) from exc
    click.echo(f"admin {username} created with id {user_id}")


def _promote(email: str) -> None:
    async def run() -> str | None:
        async with session_scope() as session:
            user = await AccountService(session=session).promote(email)
            return user.username if user is not None else None

    username = anyio.run(run)
    if username is None:
        raise click.ClickException(f"no account with email {email}")
    click.echo(f"{username} ({email}) is now an admin")
