"""The fetcher against a real Dovecot over POP3: UIDL-based, delete after durable storage or keep."""

from __future__ import annotations

import poplib
from typing import Any

import pytest
from sqlalchemy import select

from shared.db.models import FetchFailure
from tests.support.dovecot import MailUser, sample_mail
from tests.support.fetching import apply_account, fetcher_settings, payloads, pop3_account, running_fetcher
from tests.support.pop3faults import RefusingPop3Factory
from tests.support.waiting import wait_for


@pytest.fixture
def pop3_fetcher(database_url: str, tmp_path: Any, secret_key: str, memory_broker: Any):  # type: ignore[no-untyped-def]
    def start(factory: Any = None, **overrides: Any):  # type: ignore[no-untyped-def]
        extra = {"pop3_factory": factory} if factory else {}
        return running_fetcher(fetcher_settings(database_url, tmp_path, secret_key, **overrides), memory_broker,
                               **extra)
    return start


def uidls(user: MailUser) -> list[str]:
    conn = poplib.POP3("127.0.0.1", user.server.pop3_port, timeout=10)
    try:
        conn.user(user.name)
        conn.pass_(user.password)
        return [line.split()[1].decode() for line in conn.uidl()[1]]
    finally:
        conn.quit()


def test_pop3_mails_are_published_then_deleted(mail_user, sessions, secret_box, memory_broker, pop3_fetcher):
    """after_fetch: delete (the POP3 default): each mail published once as pop3:<uidl>, then gone."""
    for n in range(3):
        mail_user.append(sample_mail(n))
    before = uidls(mail_user)
    apply_account(sessions, secret_box, **pop3_account(mail_user, poll_interval=0.2))
    with pop3_fetcher():
        wait_for(lambda: not uidls(mail_user), what="the maildrop emptied")
    assert sorted(p["source_id"] for p in payloads(memory_broker)) == sorted(f"pop3:{u}" for u in before)


def test_pop3_kept_mails_are_remembered_by_uidl_and_never_imported_twice(mail_user, sessions, secret_box,
                                                                         memory_broker, pop3_fetcher):
    """after_fetch: leave keeps mails on the server; later polls and a restart publish only new
    ones; existing_mail: archive marks the mails found first as archive."""
    mail_user.append(sample_mail(1))
    apply_account(sessions, secret_box, **pop3_account(mail_user, after_fetch="leave", poll_interval=0.1,
                                                       existing_mail="archive"))
    with pop3_fetcher():
        wait_for(lambda: len(memory_broker.published) == 1, what="the first mail")
        mail_user.append(sample_mail(2))
        wait_for(lambda: len(memory_broker.published) == 2, what="the second mail")
    with pop3_fetcher():
        mail_user.append(sample_mail(3))
        wait_for(lambda: len(memory_broker.published) == 3, what="the third mail")
    assert len(uidls(mail_user)) == 3
    found = payloads(memory_broker)
    assert [p["archive"] for p in found] == [True, False, False]
    assert len({p["source_id"] for p in found}) == 3


def test_a_pop3_mail_that_cannot_be_retrieved_is_skipped_and_kept(mail_user, sessions, secret_box, memory_broker,
                                                                  pop3_fetcher):
    """RETR answers -ERR for one mail: the others are published and deleted; the bad one is
    retried a bounded number of times, recorded as skipped, and left on the server."""
    for n in range(3):
        mail_user.append(sample_mail(n))
    bad = uidls(mail_user)[0]
    apply_account(sessions, secret_box, **pop3_account(mail_user, poll_interval=0.1))
    with pop3_fetcher(RefusingPop3Factory({bad}), max_fetch_attempts=3):
        wait_for(lambda: uidls(mail_user) == [bad], what="the good mails deleted")

        def state():  # type: ignore[no-untyped-def]
            with sessions() as session:
                return session.scalar(select(FetchFailure.state))
        wait_for(lambda: state() == "skipped", what="the bad mail skipped")
    assert len(memory_broker.published) == 2
    assert uidls(mail_user) == [bad]
