"""The pipeline's schema: accounts, items with their mails and attachments, the outbox.

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('item_type', sa.String(length=40), nullable=False),
    sa.Column('project', sa.String(length=100), nullable=False),
    sa.Column('auto_reply', sa.Boolean(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('sealed_secrets', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('item_sequences',
    sa.Column('item_type', sa.String(length=40), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('item_type')
    )
    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('project', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('account', sa.String(length=100), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('type', 'number')
    )
    op.create_table('item_mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('item_type', sa.String(length=40), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('account', sa.String(length=100), nullable=False),
    sa.Column('source_id', sa.String(length=500), nullable=True),
    sa.Column('dedupe_key', sa.String(length=1000), nullable=True),
    sa.Column('message_id', sa.String(length=1000), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('from_address', sa.String(length=320), nullable=False),
    sa.Column('from_name', sa.String(length=320), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('raw_key', sa.String(length=100), nullable=True),
    sa.Column('classification', sa.String(length=20), nullable=False),
    sa.Column('matched_by', sa.String(length=200), nullable=False),
    sa.Column('mail_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outputs', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_type', 'dedupe_key')
    )
    op.create_index(op.f('ix_item_mails_item_id'), 'item_mails', ['item_id'], unique=False)
    op.create_index(op.f('ix_item_mails_message_id'), 'item_mails', ['message_id'], unique=False)
    op.create_index(op.f('ix_item_mails_source_id'), 'item_mails', ['source_id'], unique=False)
    op.create_table('outbound_mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('account', sa.String(length=100), nullable=False),
    sa.Column('message_id', sa.String(length=1000), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'recipient', 'kind')
    )
    op.create_index(op.f('ix_outbound_mails_item_id'), 'outbound_mails', ['item_id'], unique=False)
    op.create_table('item_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('mail_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('blob_key', sa.String(length=100), nullable=True),
    sa.Column('inline', sa.Boolean(), nullable=False),
    sa.Column('content_id', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.ForeignKeyConstraint(['mail_id'], ['item_mails.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_item_attachments_item_id'), 'item_attachments', ['item_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_item_attachments_item_id'), table_name='item_attachments')
    op.drop_table('item_attachments')
    op.drop_index(op.f('ix_outbound_mails_item_id'), table_name='outbound_mails')
    op.drop_table('outbound_mails')
    op.drop_index(op.f('ix_item_mails_source_id'), table_name='item_mails')
    op.drop_index(op.f('ix_item_mails_message_id'), table_name='item_mails')
    op.drop_index(op.f('ix_item_mails_item_id'), table_name='item_mails')
    op.drop_table('item_mails')
    op.drop_table('items')
    op.drop_table('item_sequences')
    op.drop_table('accounts')
