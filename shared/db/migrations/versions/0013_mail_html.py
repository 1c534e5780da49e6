"""The sanitized HTML of each mail on an item, for the console's HTML view (nullable: a mail with no
HTML part, or one written before this revision, has none).

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"  # main keeps one chain (tests/unit/test_migrations.py)
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item_mails") as batch:
        batch.add_column(sa.Column("html", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item_mails") as batch:
        batch.drop_column("html")
