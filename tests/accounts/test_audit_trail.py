"""The audit trail over HTTP on SQLite, MariaDB and PostgreSQL: security events are recorded with who,
what, from where and in which trace; admins read and filter them; the hash chain holds under
concurrent appends, and `kami audit verify` finds a changed record, a dropped newest one, and what
retention leaves behind."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import anyio
from click.testing import CliRunner, Result
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import create_async_engine

from kami.cli import main
from kami.db.audit import AuditEvent, AuditHead, purge_older_than
from kami.db.config import normalise_url
from kami.db.session import session_scope
from kami.pipeline.app import create_app
from kami.settings import Settings
from tests.support.shop import Client, Shop


def events(client: Client, headers: dict[str, str], **filters: str) -> list[dict[str, object]]:
    answer = client.get("/accounts/v1/audit", params={"page_size": 100, **filters}, headers=headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"]["items"])


def verify(settings: Settings) -> Result:
    env = {"KAMI_DATABASE_URL": settings.database_url, "KAMI_ENV_FILE": "/dev/null"}
    return CliRunner().invoke(main, ["audit", "verify"], env=env)


def change(settings: Settings, statement: object) -> None:
    async def run() -> None:
        engine = create_async_engine(normalise_url(settings.database_url))
        async with engine.begin() as connection:
            await connection.execute(statement)  # type: ignore[arg-type]
        await engine.dispose()

    anyio.run(run)


def test_security_events_are_recorded_and_filtered(shop: Shop, client: Client, db_settings: Settings) -> None:
    account = shop.register("kim")
    wrong = client.post("/accounts/v1/auth/login", json={"email": "kim@example.com", "password": "nope"})
    login = client.post(
        "/accounts/v1/auth/login",
        json={"email": "kim@example.com", "password": "correct horse"},
        headers={"User-Agent": "kim's browser"},
    )
    user = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    change = {"password": "another password", "current_password": "correct horse"}
    client.put("/accounts/v1/users/me", json=change, headers=user)
    client.patch(f"/accounts/v1/users/{account['id']}", json={"tier": "premium"}, headers=shop.admin)
    client.put("/accounts/v1/roles/helper", json={"permissions": ["accounts:read"]}, headers=shop.admin)
    client.post("/accounts/v1/auth/logout", headers=user)

    recorded = events(client, shop.admin)
    assert [e["action"] for e in recorded] == [
        "logout",
        "role.defined",
        "account.changed",
        "password.changed",
        "login.succeeded",
        "login.failed",
    ]
    by_action = {e["action"]: e for e in recorded}
    assert by_action["login.failed"]["actor"] == "anonymous"
    assert by_action["login.failed"]["target"] == "kim@example.com"
    assert by_action["login.failed"]["trace_id"] == wrong.json()["trace_id"]
    succeeded = by_action["login.succeeded"]
    assert (succeeded["actor"], succeeded["target"]) == (account["id"], account["id"])
    assert (succeeded["user_agent"], succeeded["address"]) == ("kim's browser", "testclient")
    assert succeeded["trace_id"] == login.json()["trace_id"]
    changed = by_action["account.changed"]
    assert changed["actor"] == "00000000-0000-0000-0000-000000000001"  # the admin who did it
    assert changed["detail"] == {"tier": ["free", "premium"]}
    assert [e["seq"] for e in recorded] == list(range(len(recorded), 0, -1))

    assert [e["action"] for e in events(client, shop.admin, target=account["id"])] == [
        "logout",
        "account.changed",
        "password.changed",
        "login.succeeded",
    ]
    assert [e["action"] for e in events(client, shop.admin, action="login.failed")] == ["login.failed"]
    today, tomorrow = datetime.now(UTC).date(), (datetime.now(UTC) + timedelta(days=1)).date()
    assert events(client, shop.admin, since=tomorrow.isoformat()) == []
    assert len(events(client, shop.admin, since=today.isoformat(), until=today.isoformat())) == 6
    login = client.post(
        "/accounts/v1/auth/login", json={"email": "kim@example.com", "password": "another password"}
    )
    kim = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    refused = client.get("/accounts/v1/audit", headers=kim)
    assert (refused.status_code, refused.json()["code"]) == (403, 1003)

    intact = verify(db_settings)
    assert intact.exit_code == 0, intact.output
    assert "audit trail intact: 7 records from #1, head #7" in intact.output


def test_the_chain_holds_under_concurrent_appends_and_shows_tampering(db_settings: Settings) -> None:
    """Twenty-five failed logins at once (separate connections, one transaction each) make twenty-five
    linked records; then a changed record, a dropped newest record and retention are each told apart."""

    async def many() -> None:
        async with AsyncTestClient(create_app(db_settings)) as client:
            bodies = [{"email": f"nobody{n}@example.com", "password": "x"} for n in range(25)]
            answers = await asyncio.gather(*(client.post("/accounts/v1/auth/login", json=b) for b in bodies))
            assert {a.json()["code"] for a in answers} == {1001}

    anyio.run(many)
    report = verify(db_settings)
    assert report.exit_code == 0, report.output
    assert "25 records from #1, head #25" in report.output

    change(db_settings, update(AuditEvent).where(AuditEvent.seq == 7).values(target="someone@else.com"))
    broken = verify(db_settings)
    assert broken.exit_code == 1
    assert "broken at record #7: its content does not match its hash" in broken.output
    change(db_settings, update(AuditEvent).where(AuditEvent.seq == 7).values(target="nobody6@example.com"))
    assert verify(db_settings).exit_code == 0

    # Retention: records older than the window go (never the newest); the oldest kept one anchors it.
    old = datetime.now(UTC) - timedelta(days=400)
    change(db_settings, update(AuditEvent).where(AuditEvent.seq <= 5).values(occurred_at=old))
    assert verify(db_settings).exit_code == 1  # moving a record in time is a change too

    async def purge() -> int:
        async with session_scope(db_settings) as session:
            return await purge_older_than(session, 365)

    assert anyio.run(purge) == 5
    kept = verify(db_settings)
    assert kept.exit_code == 0, kept.output
    assert "20 records from #6, head #25" in kept.output
    # The oldest records deleted by someone, not by retention: told apart.
    change(db_settings, delete(AuditEvent).where(AuditEvent.seq <= 7))
    cut = verify(db_settings)
    assert cut.exit_code == 1
    assert "records #6 to #7 are missing (not purged)" in cut.output
    change(db_settings, update(AuditHead).values(purged_through=7))  # as if retention had taken them
    assert verify(db_settings).exit_code == 0

    change(db_settings, delete(AuditEvent).where(AuditEvent.seq == 25))
    dropped = verify(db_settings)
    assert dropped.exit_code == 1
    assert "the newest record is 24, the head names 25" in dropped.output
