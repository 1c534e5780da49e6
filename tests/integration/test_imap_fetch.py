"""The fetcher against a real Dovecot over IMAP: what is published, and what happens on the server."""

from __future__ import annotations

import time

from tests.support.dovecot import sample_mail
from tests.support.fetching import apply_account, imap_account, payloads, source_ids
from tests.support.waiting import wait_for


def test_new_mail_is_published_once_then_marked_read(mail_user, sessions, secret_box, memory_broker, fetcher):
    """Each mail is published once with source_id imap:<folder>:<uidvalidity>:<uid>, then flagged \\Seen."""
    uids = [mail_user.append(sample_mail(n)) for n in range(3)]
    apply_account(sessions, secret_box, **imap_account(mail_user, after_fetch="mark_read"))
    with fetcher():
        wait_for(lambda: all(b"\\Seen" in f for f in mail_user.flags().values()), what="mails marked read")
    validity = mail_user.uidvalidity()
    assert source_ids(memory_broker) == {f"imap:INBOX:{validity}:{uid}": 1 for uid in uids}


def test_published_mail_is_deleted_from_the_server(mail_user, sessions, secret_box, memory_broker, fetcher):
    """after_fetch: delete removes exactly the published mails."""
    for n in range(4):
        mail_user.append(sample_mail(n))
    apply_account(sessions, secret_box, **imap_account(mail_user, after_fetch="delete"))
    with fetcher():
        wait_for(lambda: not mail_user.flags(), what="an empty INBOX")
    assert sorted(source_ids(memory_broker).values()) == [1, 1, 1, 1]


def test_leave_unread_never_imports_a_mail_twice(mail_user, sessions, secret_box, memory_broker, fetcher):
    """after_fetch: leave keeps mails unread on the server; a restart publishes only the new mail."""
    mail_user.append(sample_mail(1))
    apply_account(sessions, secret_box, **imap_account(mail_user, after_fetch="leave"))
    with fetcher():
        wait_for(lambda: len(memory_broker.published) == 1, what="the first mail")
    with fetcher():
        new_uid = mail_user.append(sample_mail(2))
        wait_for(lambda: len(memory_broker.published) == 2, what="the second mail")
    assert set(source_ids(memory_broker).values()) == {1}
    assert all(b"\\Seen" not in f for f in mail_user.flags().values())
    assert f"imap:INBOX:{mail_user.uidvalidity()}:{new_uid}" in source_ids(memory_broker)


def test_a_mail_a_person_read_first_is_still_imported(mail_user, sessions, secret_box, memory_broker, fetcher):
    """The cursor is the UID, not \\Seen: a mail read in another client before the fetch is not skipped."""
    mail_user.append(sample_mail(1), flags=[b"\\Seen"])
    mail_user.append(sample_mail(2))
    apply_account(sessions, secret_box, **imap_account(mail_user, after_fetch="mark_read"))
    with fetcher():
        wait_for(lambda: len(memory_broker.published) == 2, what="both mails")


def test_only_the_configured_folder_is_read(mail_user, sessions, secret_box, memory_broker, fetcher):
    """folder: Support reads that folder and leaves INBOX alone."""
    mail_user.create_folder("Support")
    mail_user.append(sample_mail(1), folder="INBOX")
    uid = mail_user.append(sample_mail(2), folder="Support")
    apply_account(sessions, secret_box, **imap_account(mail_user, folder="Support", after_fetch="delete"))
    with fetcher():
        wait_for(lambda: not mail_user.flags("Support"), what="Support emptied")
    assert list(source_ids(memory_broker)) == [f"imap:Support:{mail_user.uidvalidity('Support')}:{uid}"]
    assert len(mail_user.flags("INBOX")) == 1


def test_existing_mail_can_be_imported_as_archive(mail_user, sessions, secret_box, memory_broker, fetcher):
    """existing_mail: archive marks the mails found at the first sync archive=True, later ones not."""
    mail_user.append(sample_mail(1))
    apply_account(sessions, secret_box, **imap_account(mail_user, existing_mail="archive", after_fetch="leave"))
    with fetcher():
        wait_for(lambda: len(memory_broker.published) == 1, what="the old mail")
        mail_user.append(sample_mail(2))
        wait_for(lambda: len(memory_broker.published) == 2, what="the new mail")
    assert [p["archive"] for p in payloads(memory_broker)] == [True, False]


def test_idle_delivers_a_new_mail_within_two_seconds(mail_user, sessions, secret_box, memory_broker, fetcher,
                                                    faults):
    """With IDLE a new mail is published about at once, though the poll interval is five minutes."""
    apply_account(sessions, secret_box, **imap_account(mail_user, poll_interval=300))
    with fetcher():
        assert faults.idling.wait(10), "the fetcher never entered IDLE"
        started = time.monotonic()
        mail_user.append(sample_mail(1))
        wait_for(lambda: len(memory_broker.published) == 1, timeout=2.0, interval=0.01, what="the mail via IDLE")
        assert time.monotonic() - started < 2.0
