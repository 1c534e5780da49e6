"""The team's side: users sign in (role, argon2id hash), API tokens, item history, the assignee, merged
items, and the application layer's outbox of messages to the pipeline.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"  # main keeps one chain (tests/unit/test_migrations.py)
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("role", sa.String(length=20), nullable=False, server_default="agent"))
        batch.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_items_assignee", "users", ["assignee_id"], ["id"])
        batch.create_foreign_key("fk_items_merged_into", "items", ["merged_into_id"], ["id"])
        batch.create_index("ix_items_assignee_id", ["assignee_id"])
        batch.create_index("ix_items_status_id", ["status", "id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "item_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False, index=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "pending_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.String(length=100), nullable=False, unique=True),
        sa.Column("routing_key", sa.String(length=100), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True, index=True),
        sa.Column("error", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pending_messages")
    op.drop_table("item_events")
    op.drop_table("api_tokens")
    with op.batch_alter_table("items") as batch:
        batch.drop_index("ix_items_status_id")
        batch.drop_index("ix_items_assignee_id")
        batch.drop_constraint("fk_items_merged_into", type_="foreignkey")
        batch.drop_constraint("fk_items_assignee", type_="foreignkey")
        batch.drop_column("merged_into_id")
        batch.drop_column("assignee_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_hash")
        batch.drop_column("role")
