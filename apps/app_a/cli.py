"""``kami users ...``: App A's command line."""

from __future__ import annotations

import anyio
import click
from advanced_alchemy.exceptions import DuplicateKeyError

from apps.app_a.schemas import Registration
from apps.app_a.services import AccountService
from kami.data import session_scope

__all__ = ["users"]


@click.group("users")
def users() -> None:
    """Manage App A's accounts."""


@users.command("create-admin")
@click.option("--email", required=True)
@click.option("--username", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True)
def create_admin(email: str, username: str, password: str) -> None:
    """Create an administrator account (the first admin is made this way)."""
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
    except DuplicateKeyError as exc:
        raise click.ClickException(f"an account with email {email} or username {username} exists") from exc
    click.echo(f"admin {username} created with id {user_id}")
