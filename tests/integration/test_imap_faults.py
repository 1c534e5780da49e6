"""The IMAP fetcher when things go wrong: connections cut, other clients acting, UIDVALIDITY changing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared.db.models import AccountHealth, FetchFailure, MailboxCursor
from tests.support.dovecot import sample_mail
from tests.support.fetching import apply_account, imap_account, source_ids
from tests.support.waiting import wait_for


def _scalar(sessions, query):  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(query)


def test_a_connection_cut_mid_import_resumes_without_loss_or_duplicates(mail_user, sessions, secret_box,
                                                                       memory_broker, fetcher, faults):
    """Cut while fetching the second batch: the fetcher reconnects, resumes at the checkpoint, and
    every mail is published exactly once and marked read."""
    for n in range(6):
        mail_user.append(sample_mail(n))
    # Per batch of two: FETCH sizes, then FETCH bodies; the 4th FETCH is the second batch's bodies.
    faults.on("fetch", 4, lambda proxy, args: proxy.cut())
    apply_account(sessions, secret_box, **imap_account(mail_user, batch_size=2, after_fetch="mark_read"))
    with fetcher():
        wait_for(lambda: all(b"\\Seen" in f for f in mail_user.flags().values()), what="all marked read")
    assert faults.connections >= 2
    assert sorted(source_ids(memory_broker).values()) == [1] * 6
    assert _scalar(sessions, select(AccountHealth.last_error_kind)) == "network"


def test_a_mail_expunged_by_another_client_during_our_fetch_is_skipped(mail_user, sessions, secret_box,
                                                                      memory_broker, fetcher, faults):
    """Another client expunges a mail between our SEARCH and our FETCH: the others are published,
    the vanished one is neither published nor recorded as failed, and the cursor moves on."""
    uids = [mail_user.append(sample_mail(n)) for n in range(5)]

    def expunge_third(proxy, args):  # type: ignore[no-untyped-def]
        with mail_user.imap() as other:
            other.select_folder("INBOX")
            other.add_flags([uids[2]], [b"\\Deleted"])
            other.uid_expunge([uids[2]])

    faults.on("fetch", 2, expunge_third)  # the first FETCH of bodies
    apply_account(sessions, secret_box, **imap_account(mail_user, after_fetch="leave"))
    with fetcher():
        wait_for(lambda: _scalar(sessions, select(MailboxCursor.last_uid)) == uids[-1], what="the cursor at the end")
    validity = mail_user.uidvalidity()
    assert source_ids(memory_broker) == {f"imap:INBOX:{validity}:{u}": 1 for u in uids if u != uids[2]}
    assert _scalar(sessions, select(func.count()).select_from(FetchFailure)) == 0


def test_deleted_flags_left_by_a_cut_connection_are_expunged_only_for_our_mails(mail_user, sessions, secret_box,
                                                                                memory_broker, fetcher, faults):
    """Cut after STORE \\Deleted, before UID EXPUNGE: on reconnect our mails are expunged, not
    imported again; a mail another client flagged \\Deleted (not ours: it predates the account,
    existing_mail: skip) stays."""
    theirs = mail_user.append(sample_mail(0), flags=[b"\\Deleted"])
    faults.on("uid_expunge", 1, lambda proxy, args: proxy.cut())
    apply_account(sessions, secret_box, **imap_account(mail_user, after_fetch="delete", existing_mail="skip"))
    with fetcher():
        assert faults.idling.wait(10)
        for n in range(1, 4):
            mail_user.append(sample_mail(n))
        wait_for(lambda: list(mail_user.flags()) == [theirs], what="only their mail left")
    assert faults.calls["uid_expunge"] >= 2  # the cut one, then the one after reconnecting
    assert sorted(source_ids(memory_broker).values()) == [1, 1, 1]
    assert b"\\Deleted" in mail_user.flags()[theirs]


def test_a_uidvalidity_change_resyncs_without_publishing_again(mail_user, sessions, secret_box, memory_broker,
                                                             fetcher):
    """The folder is recreated with the same mails (new UIDVALIDITY): only the truly new mail is published."""
    old = [sample_mail(1), sample_mail(2)]
    mail_user.create_folder("Support")
    for raw in old:
        mail_user.append(raw, folder="Support")
    before = mail_user.uidvalidity("Support")
    apply_account(sessions, secret_box, **imap_account(mail_user, folder="Support", after_fetch="leave"))
    with fetcher():
        wait_for(lambda: len(memory_broker.published) == 2, what="the two mails")
    with mail_user.imap() as client:
        client.rename_folder("Support", "Support-old")
        client.create_folder("Support")
    for raw in old:
        mail_user.append(raw, folder="Support")
    new_uid = mail_user.append(sample_mail(3), folder="Support")
    after = mail_user.uidvalidity("Support")
    assert after != before
    with fetcher():
        wait_for(lambda: _scalar(sessions, select(MailboxCursor.last_uid)) == new_uid, what="the resync")
    ids = source_ids(memory_broker)
    assert len(ids) == 3 and set(ids.values()) == {1}
    assert f"imap:Support:{after}:{new_uid}" in ids


def test_a_uidvalidity_change_after_an_archive_import_leaves_the_archived_mail_on_the_server(
        mail_user, sessions, secret_box, memory_broker, fetcher):
    """The archived mail comes back under new UIDs: it is recognised, not published again, and not
    deleted either, though the account deletes what it reads; a new mail is still deleted."""
    old = [sample_mail(1), sample_mail(2)]
    mail_user.create_folder("Support")
    for raw in old:
        mail_user.append(raw, folder="Support")
    apply_account(sessions, secret_box, **imap_account(mail_user, folder="Support", after_fetch="delete",
                                                       existing_mail=None))
    with fetcher():
        wait_for(lambda: len(memory_broker.published) == 2, what="the archive import")
    with mail_user.imap() as client:
        client.rename_folder("Support", "Support-old")
        client.create_folder("Support")
    for raw in old:
        mail_user.append(raw, folder="Support")
    with fetcher():
        wait_for(lambda: _scalar(sessions, select(MailboxCursor.resync_until)) == 2, what="the resync")
        mail_user.append(sample_mail(3), folder="Support")
        wait_for(lambda: len(memory_broker.published) == 3, what="the new mail")
        wait_for(lambda: len(mail_user.flags("Support")) == 2, what="the new mail deleted")
    assert not any(b"\\Deleted" in f for f in mail_user.flags("Support").values())


@pytest.mark.parametrize("after_fetch", ["mark_read", "leave"])
def test_a_mail_the_server_refuses_is_skipped_after_bounded_retries_without_blocking_others(
        after_fetch, mail_user, sessions, secret_box, memory_broker, fetcher, faults):
    """The server answers NO for one mail's body: the mails around it are published (and marked
    read) at once; the bad one is retried every poll_interval, then skipped, recorded, left unread."""
    uids = [mail_user.append(sample_mail(n)) for n in range(3)]
    faults.refused_uids = {uids[1]}
    apply_account(sessions, secret_box, **imap_account(mail_user, after_fetch=after_fetch, poll_interval=0.3))
    with fetcher(max_fetch_attempts=3):
        wait_for(lambda: len(memory_broker.published) == 2, what="the two good mails")
        wait_for(lambda: _scalar(sessions, select(FetchFailure.state)) == "skipped", what="the skip")
        uids.append(mail_user.append(sample_mail(3)))  # after the skip, mail flows as before
        wait_for(lambda: len(memory_broker.published) == 3, what="a later mail")
        wait_for(lambda: after_fetch == "leave" or b"\\Seen" in mail_user.flags()[uids[-1]], what="it read")
    failure = _scalar(sessions, select(FetchFailure))
    assert failure.attempts == 3 and failure.source_id.endswith(f":{uids[1]}") and "SERVERBUG" in failure.last_error
    seen = {uid: b"\\Seen" in f for uid, f in mail_user.flags().items()}
    assert seen == {uid: after_fetch == "mark_read" and uid != uids[1] for uid in uids}
