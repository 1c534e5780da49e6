"""Loop breakers scoped to what loops: one correspondent, one item, or (a storm) the account; and
which outbound mails count against the governor's caps.

``loop_breakers`` gets ``scope`` and ``key`` in its primary key. The table is rebuilt (SQLite cannot
change a primary key in place); breakers open at the upgrade stay open, as account-wide ones.
``outbound_mails.counted``: true for automatic mail, false for people's replies (which the caps
never counted by intent, but did count in fact).

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"  # main keeps one chain (tests/unit/test_migrations.py)
branch_labels = None
depends_on = None

_COMMON = ("account", "opened_at", "open_until", "reason", "trips")


def _breakers_table(name: str, scoped: bool) -> None:
    columns = [sa.Column("account", sa.String(length=100), nullable=False)]
    if scoped:
        columns += [sa.Column("scope", sa.String(length=20), nullable=False),
                    sa.Column("key", sa.String(length=320), nullable=False)]
    op.create_table(
        name, *columns,
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=False),
        # Named apart: both tables exist for a moment, and PostgreSQL names a key like an index.
        # "loop_breakers_pkey" is the name 0004 gave it.
        sa.PrimaryKeyConstraint(*(("account", "scope", "key") if scoped else ("account",)),
                                name="pk_loop_breakers" if scoped else "loop_breakers_pkey"),
    )


def _copy(source: str, target: str, *, into_scoped: bool) -> None:
    old = sa.table(source, *(sa.column(c) for c in (*_COMMON, "scope")))
    if into_scoped:
        new = sa.table(target, *(sa.column(c) for c in (*_COMMON, "scope", "key")))
        query = sa.select(*(old.c[c] for c in _COMMON), sa.literal("account"), sa.literal(""))
        op.execute(new.insert().from_select([*_COMMON, "scope", "key"], query))
    else:
        new = sa.table(target, *(sa.column(c) for c in _COMMON))
        query = sa.select(*(old.c[c] for c in _COMMON)).where(old.c.scope == "account")
        op.execute(new.insert().from_select(list(_COMMON), query))


def upgrade() -> None:
    _breakers_table("loop_breakers_0009", scoped=True)
    _copy("loop_breakers", "loop_breakers_0009", into_scoped=True)
    op.drop_table("loop_breakers")
    op.rename_table("loop_breakers_0009", "loop_breakers")
    with op.batch_alter_table("outbound_mails") as batch:
        batch.add_column(sa.Column("counted", sa.Boolean(), nullable=False, server_default=sa.true()))
    mails = sa.table("outbound_mails", sa.column("kind"), sa.column("counted"))
    op.execute(mails.update().where(mails.c.kind == "reply").values(counted=False))


def downgrade() -> None:
    with op.batch_alter_table("outbound_mails") as batch:
        batch.drop_column("counted")
    _breakers_table("loop_breakers_0008", scoped=False)
    _copy("loop_breakers", "loop_breakers_0008", into_scoped=False)  # the account-wide ones only
    op.drop_table("loop_breakers")
    op.rename_table("loop_breakers_0008", "loop_breakers")
