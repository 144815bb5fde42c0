"""accounts: identity moves to the platform; app-a: wallets

App A's accounts and roles become the platform's (``kami_account``, ``kami_role``), and the balance
leaves the account for App A's own ``app_a_wallet``. Nothing is lost: every account and role is copied
with its id, every non-zero balance becomes a wallet, orders point at the same ids, the permissions
defined roles and API keys hold are renamed as the identity slice names them, and the downgrade puts
it all back. Addresses and names gain their canonical forms (``email_key``, ``username_key``: NFKC and
case folded, unique byte for byte on every database); two accounts whose forms collide stop the upgrade
naming them, for an operator to resolve first (a role name longer than 20 characters, possible only after this revision, would
not fit the old column).

Revision ID: 839438407267
Revises: c82df7206625
Create Date: 2026-12-07 20:47:17.092444
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC

from kami.data import PreciseDateTimeUTC, exact_string

from alembic import op


revision = '839438407267'
down_revision = 'c82df7206625'
branch_labels = None
depends_on = None

sa.GUID = GUID  # type: ignore[attr-defined]  # autogenerate renders advanced-alchemy types as sa.X
sa.DateTimeUTC = DateTimeUTC  # type: ignore[attr-defined]
sa.PreciseDateTimeUTC = PreciseDateTimeUTC  # type: ignore[attr-defined]

ACCOUNT_COLUMNS = (
    "id, email, username, password_hash, role, tier, status, email_verified, sa_orm_sentinel, "
    "created_at, updated_at"
)
ROLE_COLUMNS = "id, name, description, permissions, sa_orm_sentinel, created_at, updated_at"
_BATCH = 1000
# What the permissions App A declared are called now: defined roles and API keys keep their meaning.
RENAMED = {
    "app-a:accounts.read": "accounts:read",
    "app-a:accounts.manage": "accounts:manage",
    "app-a:roles.manage": "accounts:roles.manage",
    "app-a:audit.read": "accounts:audit.read",
    "app-a:accounts.credit": "app-a:wallets.credit",
}


def _rename_permissions(table: str, key: str, names: dict[str, str]) -> None:
    """Rewrite the permission lists of ``table`` (JSON) with ``names``."""
    rows = sa.table(table, sa.column(key), sa.column("permissions", sa.JSON()))
    connection = op.get_bind()
    for row_key, permissions in connection.execute(sa.select(rows.c[key], rows.c.permissions)).all():
        renamed = sorted({names.get(name, name) for name in permissions or []})
        if renamed != sorted(permissions or []):
            connection.execute(sa.update(rows).where(rows.c[key] == row_key).values(permissions=renamed))


def _canonical(text: str) -> str:
    """kami.accounts.canonical, as it is today (a revision must not change when the code does)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text.strip()).casefold())


def _uuid7() -> uuid.UUID:
    """A UUIDv7 (time first), as the models' ids are: what advanced-alchemy's base would give."""
    from uuid_utils import uuid7

    return uuid.UUID(str(uuid7()))


def _copy_accounts(accounts: sa.Table) -> None:
    """Every account with its canonical forms, refusing (before writing any) forms two accounts share."""
    names = [column.strip() for column in ACCOUNT_COLUMNS.split(",")]
    old = sa.table('app_a_user', *(sa.column(name, accounts.c[name].type) for name in names))
    rows = [dict(row._mapping) for row in op.get_bind().execute(sa.select(old)).all()]
    taken: dict[tuple[str, str], str] = {}
    clashes: list[str] = []
    for row in rows:
        row["email_key"], row["username_key"] = _canonical(row["email"]), _canonical(row["username"])
        for field in ("email_key", "username_key"):
            other = taken.setdefault((field, row[field]), row["username"])
            if other != row["username"]:
                clashes.append(f"{other} and {row['username']} share the {field.removesuffix('_key')} {row[field]!r}")
    if clashes:
        raise RuntimeError("accounts that are one person's spelled twice; merge or rename them first: " + "; ".join(clashes))
    for start in range(0, len(rows), _BATCH):
        op.bulk_insert(accounts, rows[start : start + _BATCH])


def upgrade() -> None:
    accounts = op.create_table('kami_account',
    sa.Column('id', sa.GUID(length=16), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('username', sa.String(length=50), nullable=False),
    sa.Column('email_key', exact_string(320), nullable=False),
    sa.Column('username_key', exact_string(50), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=50), server_default='user', nullable=False),
    sa.Column('tier', sa.String(length=20), server_default='free', nullable=False),
    sa.Column('status', sa.String(length=20), server_default='active', nullable=False),
    sa.Column('email_verified', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.PreciseDateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa.PreciseDateTimeUTC(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kami_account')),
    sa.UniqueConstraint('email_key', name=op.f('uq_kami_account_email_key')),
    sa.UniqueConstraint('username_key', name=op.f('uq_kami_account_username_key'))
    )

    op.create_table('kami_role',
    sa.Column('id', sa.GUID(length=16), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('permissions', sa.JSON(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.PreciseDateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa.PreciseDateTimeUTC(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kami_role')),
    sa.UniqueConstraint('name', name=op.f('uq_kami_role_name'))
    )
    wallets = op.create_table('app_a_wallet',
    sa.Column('id', sa.GUID(length=16), nullable=False),
    sa.Column('account_id', sa.GUID(length=16), nullable=False),
    sa.Column('balance', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.PreciseDateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa.PreciseDateTimeUTC(timezone=True), nullable=False),
    sa.CheckConstraint('balance >= 0', name=op.f('ck_app_a_wallet_balance_non_negative')),
    sa.ForeignKeyConstraint(['account_id'], ['kami_account.id'], name=op.f('fk_app_a_wallet_account_id_kami_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_a_wallet')),
    sa.UniqueConstraint('account_id', name=op.f('uq_app_a_wallet_account_id'))
    )

    # The data, in place: same ids, so orders, keys and audit records still name the same accounts.
    _copy_accounts(accounts)
    op.execute(f"INSERT INTO kami_role ({ROLE_COLUMNS}) SELECT {ROLE_COLUMNS} FROM app_a_role")
    users = sa.table('app_a_user', sa.column('id', sa.GUID(length=16)), sa.column('balance', sa.Numeric(14, 2)))
    connection = op.get_bind()
    now = datetime.now(UTC)
    balances = connection.execute(sa.select(users.c.id, users.c.balance).where(users.c.balance != 0)).all()
    for start in range(0, len(balances), _BATCH):
        op.bulk_insert(
            wallets,
            [
                {"id": _uuid7(), "account_id": account, "balance": balance, "created_at": now, "updated_at": now}
                for account, balance in balances[start : start + _BATCH]
            ],
        )

    _rename_permissions('kami_role', 'name', RENAMED)
    _rename_permissions('kami_api_key', 'id', RENAMED)

    with op.batch_alter_table('app_a_order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_app_a_order_user_id_app_a_user'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_app_a_order_user_id_kami_account'), 'kami_account', ['user_id'], ['id'], ondelete='CASCADE')
    op.drop_table('app_a_role')
    op.drop_table('app_a_user')


def downgrade() -> None:
    op.create_table('app_a_user',
    sa.Column('id', sa.GUID(length=16), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('username', sa.String(length=50), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), server_default='user', nullable=False),
    sa.Column('tier', sa.String(length=20), server_default='free', nullable=False),
    sa.Column('balance', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.PreciseDateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa.PreciseDateTimeUTC(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='active', nullable=False),
    sa.Column('email_verified', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.CheckConstraint('balance >= 0', name=op.f('ck_app_a_user_balance_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_a_user'))
    )
    with op.batch_alter_table('app_a_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_a_user_email'), ['email'], unique=True)
        batch_op.create_index(batch_op.f('ix_app_a_user_username'), ['username'], unique=True)
    op.create_table('app_a_role',
    sa.Column('id', sa.GUID(length=16), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('permissions', sa.JSON(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.PreciseDateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa.PreciseDateTimeUTC(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_a_role')),
    sa.UniqueConstraint('name', name=op.f('uq_app_a_role_name'))
    )
    account_columns = ", ".join(f"a.{column.strip()}" for column in ACCOUNT_COLUMNS.split(","))
    op.execute(
        f"INSERT INTO app_a_user ({ACCOUNT_COLUMNS}, balance) "
        f"SELECT {account_columns}, COALESCE(w.balance, 0) FROM kami_account a "
        "LEFT JOIN app_a_wallet w ON w.account_id = a.id"
    )
    op.execute(f"INSERT INTO app_a_role ({ROLE_COLUMNS}) SELECT {ROLE_COLUMNS} FROM kami_role")
    back = {new: old for old, new in RENAMED.items()}
    _rename_permissions('app_a_role', 'name', back)
    _rename_permissions('kami_api_key', 'id', back)
    with op.batch_alter_table('app_a_order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_app_a_order_user_id_kami_account'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_app_a_order_user_id_app_a_user'), 'app_a_user', ['user_id'], ['id'], ondelete='CASCADE')
    op.drop_table('app_a_wallet')
    op.drop_table('kami_role')
    op.drop_table('kami_account')
