"""Sends waiting out an SMTP outage: when the next attempt of a pending outbound mail is due, and an
index that finds the pending ones, oldest first.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"  # main keeps one chain (tests/unit/test_migrations.py)
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_mails") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_outbound_mails_status_created_at", "outbound_mails", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbound_mails_status_created_at", table_name="outbound_mails")
    with op.batch_alter_table("outbound_mails") as batch:
        batch.drop_column("next_attempt_at")
