"""The notifier's per-account loop breaker.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loop_breakers",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )
    op.create_index("ix_outbound_mails_recipient_created", "outbound_mails", ["recipient", "created_at"])
    op.create_index("ix_outbound_mails_account_created", "outbound_mails", ["account", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbound_mails_account_created", table_name="outbound_mails")
    op.drop_index("ix_outbound_mails_recipient_created", table_name="outbound_mails")
    op.drop_table("loop_breakers")
