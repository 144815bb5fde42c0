"""kami: audit retention mark

The audit trail's head remembers the newest record retention removed (``purged_through``), so that
``kami audit verify`` tells records purged by retention from records deleted by anyone else.

Revision ID: 5d2e8c41a7b3
Revises: 839438407267
Create Date: 2026-12-07 22:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op


revision = '5d2e8c41a7b3'
down_revision = '839438407267'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kami_audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_through', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), server_default='0', nullable=False))
    # Records retention removed before this revision: everything before the oldest kept one.
    op.execute(
        "UPDATE kami_audit_head SET purged_through = "
        "COALESCE((SELECT MIN(seq) - 1 FROM kami_audit_event), seq)"
    )


def downgrade() -> None:
    with op.batch_alter_table('kami_audit_head', schema=None) as batch_op:
        batch_op.drop_column('purged_through')
