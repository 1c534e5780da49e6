"""An account setting for the governor's thread rule, and each mail's new text kept.

``accounts.auto_reply_same_thread``: false (the default) keeps the rule that a mail answering one
of ours gets no auto-reply. ``item_mails.reply_text``: the mail's new text (no quoted history, no
signature), for templates previewed against a stored mail; null for mail stored before.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("auto_reply_same_thread", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("item_mails") as batch:
        batch.add_column(sa.Column("reply_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item_mails") as batch:
        batch.drop_column("reply_text")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("auto_reply_same_thread")
