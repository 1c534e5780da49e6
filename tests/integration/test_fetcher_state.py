"""Leases and cursors on PostgreSQL and SQLite: one holder at a time, fenced checkpoints."""

from __future__ import annotations

import pytest

from services.fetcher.cursors import Cursor, CursorRepo
from shared.mailboxes.failures import LeaseLost
from services.fetcher.leases import LeaseRepo


def test_a_lease_has_one_holder_until_it_expires(sessions):
    """B cannot take A's live lease; once A stops renewing and it expires, B takes it and A's renewal fails."""
    a, b = LeaseRepo(sessions, "a", ttl=0.3), LeaseRepo(sessions, "b", ttl=30)
    assert a.acquire("acct") and not b.acquire("acct")
    assert a.acquire("acct")  # re-acquiring one's own lease extends it
    expired = LeaseRepo(sessions, "a", ttl=-1)  # renewing with a negative TTL makes it expire now
    expired.renew(["acct"])
    assert b.acquire("acct")
    assert a.renew(["acct"]) == {"acct"}


def test_replicas_count_themselves_and_forget_the_ones_that_stopped(sessions):
    a, b = LeaseRepo(sessions, "a", ttl=30), LeaseRepo(sessions, "b", ttl=30)
    assert a.heartbeat() == 1 and b.heartbeat() == 2
    b.leave()
    assert a.heartbeat() == 1


def test_a_checkpoint_without_the_lease_is_refused(sessions):
    """A replica that lost its lease cannot move the cursor under the new holder."""
    a, b = LeaseRepo(sessions, "a", ttl=30), LeaseRepo(sessions, "b", ttl=30)
    assert a.acquire("acct")
    CursorRepo(sessions, a, "acct").save("INBOX", Cursor(7, last_uid=3), ["d1", "d2"])
    with pytest.raises(LeaseLost):
        CursorRepo(sessions, b, "acct").save("INBOX", Cursor(7, last_uid=9))
    repo = CursorRepo(sessions, a, "acct")
    assert repo.load("INBOX") == Cursor(7, last_uid=3)
    assert repo.published_before(["d1", "d3"]) == {"d1"}
