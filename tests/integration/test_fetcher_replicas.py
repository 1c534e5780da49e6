"""Several fetcher replicas over the same accounts: each account is read by one replica at a time."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from shared.db.models import FetcherLease
from tests.support.dovecot import sample_mail
from tests.support.fetching import account_source_ids, apply_account, imap_account
from tests.support.waiting import wait_for


def _holders(sessions) -> Counter[str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return Counter(session.scalars(select(FetcherLease.holder)))


def test_two_replicas_share_the_accounts_and_never_read_one_twice(dovecot, sessions, secret_box, memory_broker,
                                                                  fetcher):
    """Two replicas split four accounts two and two, hand accounts over mid-import, and every mail
    is published exactly once; when one replica stops, the other takes all four."""
    users = [dovecot.add_user() for _ in range(4)]
    for i, user in enumerate(users):
        user.write_maildir(sample_mail(1000 * i + n) for n in range(40))
        apply_account(sessions, secret_box, **imap_account(user, name=f"acct{i}", batch_size=4, after_fetch="leave"))
    with fetcher(replica_id="replica-a"):
        with fetcher(replica_id="replica-b"):
            wait_for(lambda: _holders(sessions) == {"replica-a": 2, "replica-b": 2}, what="a two-two split")
            wait_for(lambda: len(memory_broker.published) == 160, what="every mail", timeout=20)
        wait_for(lambda: _holders(sessions) == {"replica-a": 4}, what="replica-a taking over")
        for i, user in enumerate(users):
            user.append(sample_mail(9000 + i))
        wait_for(lambda: len(memory_broker.published) == 164, what="the new mails")
    counts = account_source_ids(memory_broker)
    assert len(counts) == 164 and set(counts.values()) == {1}
