"""An index for the loop governor's items-per-sender cap, counted on every created item: inbound
mails by sender address (without it, each count reads the whole mail history).

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"  # main keeps one chain (tests/unit/test_migrations.py)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_item_mails_from_address_direction", "item_mails", ["from_address", "direction"])


def downgrade() -> None:
    op.drop_index("ix_item_mails_from_address_direction", table_name="item_mails")
