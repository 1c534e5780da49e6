"""Mail the rules held back (our own mail come back, mail for an inactive account), one row per
mail, with the rule and the reason, and what a release needs to put it into the pipeline again.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"  # main keeps one chain (tests/unit/test_migrations.py)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_mails",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=500), nullable=False),
        sa.Column("raw_key", sa.String(length=100), nullable=False),
        sa.Column("raw_size", sa.Integer(), nullable=False),
        sa.Column("raw_sha256", sa.String(length=64), nullable=False),
        sa.Column("archive", sa.Boolean(), nullable=False),
        sa.Column("message_id", sa.String(length=1000), nullable=True),
        sa.Column("from_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("correlation_id", sa.String(length=100), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("times_held", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=320), nullable=False),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("account", "source_id", name="uq_held_mails_account_source_id"),
    )
    op.create_index("ix_held_mails_state_id", "held_mails", ["state", "id"])


def downgrade() -> None:
    op.drop_index("ix_held_mails_state_id", table_name="held_mails")
    op.drop_table("held_mails")
