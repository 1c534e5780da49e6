"""The fetcher's state: leases and replicas, IMAP cursors and published digests, POP3 UIDLs,
account health and mails that could not be fetched.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fetcher_leases",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("acquired_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )
    op.create_table(
        "fetcher_replicas",
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("holder"),
    )
    op.create_table(
        "mailbox_cursors",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("folder", sa.String(length=500), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("released_uid", sa.BigInteger(), nullable=False),
        sa.Column("archive_until", sa.BigInteger(), nullable=False),
        sa.Column("resync_until", sa.BigInteger(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("backlog", sa.Integer(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("account", "folder"),
    )
    op.create_table(
        "fetched_digests",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("fetched_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("account", "sha256"),
    )
    op.create_table(
        "pop3_uidls",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("uidl", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("seen_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("account", "uidl"),
    )
    op.create_table(
        "account_health",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("last_success_at", _TS, nullable=True),
        sa.Column("last_error_at", _TS, nullable=True),
        sa.Column("last_error_kind", sa.String(length=20), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )
    op.create_table(
        "fetch_failures",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("source_id", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("first_failed_at", _TS, nullable=False),
        sa.Column("last_failed_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("account", "source_id"),
    )


def downgrade() -> None:
    for table in ("fetch_failures", "account_health", "pop3_uidls", "fetched_digests", "mailbox_cursors",
                  "fetcher_replicas", "fetcher_leases"):
        op.drop_table(table)
