"""Every table that names an account is either removed with it or kept as history, by decision."""

from __future__ import annotations

from shared.accounts.state import ACCOUNT_HISTORY, ACCOUNT_STATE
from shared.db.models import Base


def test_every_table_with_an_account_column_is_either_account_state_or_history():
    """A new table keyed by an account name must be placed, or ``accounts delete`` would leave it behind."""
    naming = {table.name for table in Base.metadata.sorted_tables if "account" in table.columns}
    placed = {m.__tablename__ for m in (*ACCOUNT_STATE, *ACCOUNT_HISTORY)}
    assert naming == placed


def test_state_is_keyed_by_the_account_and_history_is_not():
    """State rows belong to one account (in their key); history rows only mention it."""
    assert all(m.__table__.c.account.primary_key for m in ACCOUNT_STATE)  # type: ignore[attr-defined]
    assert not any(m.__table__.c.account.primary_key for m in ACCOUNT_HISTORY)  # type: ignore[attr-defined]
