"""The first sync of a new account against a real Dovecot, through the real fetcher, parser handler,
itemwriter and notifier, with aiosmtpd as the SMTP server: by default the mail already in the mailbox
becomes closed items, nobody is answered, and nothing is deleted or moved on the server; the mail
that arrives afterwards is a new, open item with its auto-reply."""

from __future__ import annotations

import json
import poplib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.notifier.governor import Governor
from services.notifier.handlers import Notifier
from services.notifier.replies import ReplySender
from services.notifier.senders import SenderPool
from services.notifier.settings import NotifierSettings
from services.notifier.waits import Waits
from shared.contracts import Envelope, decode
from shared.accounts.progress import account_progress
from shared.clock import as_utc
from shared.db.models import AccountHealth, Item, ItemMail, OutboundMail
from shared.secrets import SecretBox
from shared.store import store_from
from shared.templates import MailTemplates
from tests.support.dovecot import MailUser, sample_mail
from tests.support.fetching import apply_account, fetcher_settings, imap_account, pop3_account, running_fetcher
from tests.support.items import TOKENS, fetched_through
from tests.support.pipeline import TOKEN_SECRET
from tests.support.smtp import RecordingHandler
from tests.support.waiting import wait_for

OLD = 12


class Downstream:
    """What happens to the fetcher's messages after it: parsed, written, notified (in order)."""

    def __init__(self, sessions: Any, broker: Any, store: Any, smtp_port: int) -> None:
        self.sessions, self.broker, self.store, self.done = sessions, broker, store, 0
        settings = NotifierSettings(smtp_host="127.0.0.1", smtp_port=smtp_port, token_secret=TOKEN_SECRET)
        senders = SenderPool(settings, "", SecretBox([]))
        self.notifier = Notifier(
            sessions=sessions, senders=senders, governor=Governor(settings.governor_policy(), TOKENS),
            templates=MailTemplates(), tokens=TOKENS, own_addresses=(), loop_id="postroom; default",
            replies=ReplySender(sessions, senders, TOKENS, store, "postroom; default"),
            waits=Waits(sessions, settings.max_send_age, lambda attempt: 5.0))

    def run(self, expected: int) -> None:
        """Wait until the fetcher has published ``expected`` mails in all, and take the new ones through."""
        wait_for(lambda: len(self.broker.published) >= expected, timeout=20, what=f"{expected} mails published")
        for message in self.broker.published[self.done:expected]:
            for event in fetched_through(self.sessions, self.store, TOKENS, decode(message.body)):
                self.notifier(Envelope.first(event))
        self.done = expected


@pytest.fixture
def downstream(sessions: Any, memory_broker: Any, database_url: str, tmp_path: Path, secret_key: str,
               smtp_server: tuple[RecordingHandler, int]) -> Downstream:
    store = store_from(fetcher_settings(database_url, tmp_path, secret_key))  # the store the fetcher writes
    return Downstream(sessions, memory_broker, store, smtp_server[1])


@pytest.fixture
def start_fetcher(database_url: str, tmp_path: Path, secret_key: str, memory_broker: Any) -> Callable[[], Any]:
    return lambda: running_fetcher(fetcher_settings(database_url, tmp_path, secret_key), memory_broker)


def _items(sessions: Any) -> list[Item]:
    with sessions() as session:
        return list(session.scalars(select(Item).order_by(Item.number)))


def _auto_replies(sessions: Any) -> list[OutboundMail]:
    with sessions() as session:
        return list(session.scalars(select(OutboundMail).where(OutboundMail.kind == "auto-reply")))


def _pop3_uidls(user: MailUser) -> list[str]:
    conn = poplib.POP3("127.0.0.1", user.server.pop3_port, timeout=10)
    try:
        conn.user(user.name)
        conn.pass_(user.password)
        return [line.split()[1].decode() for line in conn.uidl()[1]]
    finally:
        conn.quit()


def _run_of(sessions: Any) -> tuple[int, int]:
    """(done, to go) of the account's current import run, from the fetcher's checkpoints."""
    with sessions() as session:
        progress = account_progress(session)["support"]
    return progress.done, progress.to_go


def _check_old_mail_archived(sessions: Any, smtp: RecordingHandler) -> None:
    wait_for(lambda: _run_of(sessions) == (OLD, 0), what="the first import's run checkpointed")
    items = _items(sessions)
    assert len(items) == OLD
    assert {i.status for i in items} == {"closed"} and {i.step for i in items} == {"done"}
    assert smtp.received == [] and _auto_replies(sessions) == []


def _check_new_mail_answered(sessions: Any, smtp: RecordingHandler) -> None:
    new = _items(sessions)[OLD]
    assert (new.status, new.step) == ("new", "triage")
    wait_for(lambda: len(smtp.received) == 1, what="the auto-reply to the new mail")
    assert smtp.received[0].rcpt_tos == [f"someone{OLD + 1}@example.org"]
    assert f"[#{new.number}]" in str(smtp.received[0].message["Subject"])
    assert [m.status for m in _auto_replies(sessions)] == ["sent"]
    wait_for(lambda: _run_of(sessions) == (1, 0), what="a new run for the new mail")


def test_imap_first_sync_archives_the_mail_already_there_and_answers_only_new_mail(
        mail_user: MailUser, sessions: Any, secret_box: SecretBox, downstream: Downstream,
        smtp_server: tuple[RecordingHandler, int], start_fetcher: Callable[[], Any]) -> None:
    """An account that deletes after reading, connected to a folder of 12 mails, without a word on
    existing mail: 12 closed items, no auto-reply, all 12 mails still on the server untouched; then a
    new mail is an open item, is answered, and is the one mail deleted."""
    for n in range(1, OLD + 1):
        mail_user.append(sample_mail(n))
    apply_account(sessions, secret_box, **imap_account(mail_user, existing_mail=None, after_fetch="delete",
                                                       poll_interval=0.2))
    smtp = smtp_server[0]
    with start_fetcher():
        downstream.run(OLD)
        _check_old_mail_archived(sessions, smtp)
        flags = mail_user.flags()
        assert len(flags) == OLD and not any(b"\\Deleted" in f or b"\\Seen" in f for f in flags.values())

        mail_user.append(sample_mail(OLD + 1))
        downstream.run(OLD + 1)
        _check_new_mail_answered(sessions, smtp)
        wait_for(lambda: len(mail_user.flags()) == OLD, what="the new mail deleted after it was stored")
    assert not any(b"\\Deleted" in f for f in mail_user.flags().values())


def test_pop3_first_sync_archives_the_mail_already_there_and_keeps_it_on_the_server(
        mail_user: MailUser, sessions: Any, secret_box: SecretBox, downstream: Downstream,
        smtp_server: tuple[RecordingHandler, int], start_fetcher: Callable[[], Any]) -> None:
    """POP3 deletes by default; the 12 mails there at the first sync are closed items, unanswered, and
    stay in the maildrop across polls and a restart; a new mail is answered and deleted."""
    for n in range(1, OLD + 1):
        mail_user.append(sample_mail(n))
    old = _pop3_uidls(mail_user)
    apply_account(sessions, secret_box, **pop3_account(mail_user, existing_mail=None, poll_interval=0.2))
    smtp = smtp_server[0]
    with start_fetcher():
        downstream.run(OLD)
        _check_old_mail_archived(sessions, smtp)
        mail_user.append(sample_mail(OLD + 1))
        downstream.run(OLD + 1)
        _check_new_mail_answered(sessions, smtp)
        wait_for(lambda: _pop3_uidls(mail_user) == old, what="only the new mail deleted")
    restarted = datetime.now(UTC)
    with start_fetcher():  # a restart neither imports the kept mails again nor deletes them
        wait_for(lambda: _polled_since(sessions, restarted), what="a poll after the restart")
    assert _pop3_uidls(mail_user) == old and len(downstream.broker.published) == OLD + 1


def _polled_since(sessions: Any, moment: datetime, account: str = "support") -> bool:
    with sessions() as session:
        health = session.get(AccountHealth, account)
        last = as_utc(health.last_success_at) if health else None
        return last is not None and last > moment


def _mails_on_item(sessions: Any) -> int:
    with sessions() as session:
        return len(session.scalars(select(ItemMail.id)).all())


def test_imap_archived_mail_is_released_once_the_operator_says_so(
        mail_user: MailUser, sessions: Any, secret_box: SecretBox, downstream: Downstream,
        start_fetcher: Callable[[], Any]) -> None:
    """archived_mail: release, set after the archive import: the after-fetch action reaches the
    archived mail too, once, and nothing is imported again."""
    for n in range(1, 4):
        mail_user.append(sample_mail(n))
    spec = imap_account(mail_user, existing_mail=None, after_fetch="delete", poll_interval=0.2)
    apply_account(sessions, secret_box, **spec)
    with start_fetcher():
        downstream.run(3)
        wait_for(lambda: _run_of(sessions) == (3, 0), what="the archive import checkpointed")
        assert len(mail_user.flags()) == 3
        apply_account(sessions, secret_box, **spec, archived_mail="release")  # the worker restarts with it
        wait_for(lambda: mail_user.flags() == {}, what="the archived mail deleted")
    assert len(downstream.broker.published) == 3 and _mails_on_item(sessions) == 3


def test_pop3_archived_mail_is_released_once_the_operator_says_so_and_skipped_mail_never(
        mail_user: MailUser, dovecot: Any, sessions: Any, secret_box: SecretBox, downstream: Downstream,
        start_fetcher: Callable[[], Any]) -> None:
    """POP3: the kept mail is deleted once archived_mail is release; mail there at the first sync of
    an account that skips it is never imported, so never deleted, released or not."""
    for n in range(1, 4):
        mail_user.append(sample_mail(n))
    skipper = dovecot.add_user()
    skipper.append(sample_mail(9))
    spec = pop3_account(mail_user, existing_mail=None, poll_interval=0.2)
    skipping = pop3_account(skipper, name="skipper", existing_mail="skip", poll_interval=0.2)
    apply_account(sessions, secret_box, **spec)
    apply_account(sessions, secret_box, **skipping)
    with start_fetcher():
        downstream.run(3)
        wait_for(lambda: _run_of(sessions) == (3, 0), what="the archive import checkpointed")
        assert len(_pop3_uidls(mail_user)) == 3
        apply_account(sessions, secret_box, **spec, archived_mail="release")
        apply_account(sessions, secret_box, **skipping, archived_mail="release")
        wait_for(lambda: _pop3_uidls(mail_user) == [], what="the archived mail deleted")
        # Both changes were picked up by then: a new mail of the skipping account is imported and
        # deleted, in a poll that deletes what is deletable, and the skipped one stays.
        skipped = _pop3_uidls(skipper)
        skipper.append(sample_mail(10))
        wait_for(lambda: len(downstream.broker.published) == 4, what="the skipping account's new mail")
        wait_for(lambda: _pop3_uidls(skipper) == skipped, what="the new mail deleted")
    assert json.loads(downstream.broker.published[3].body)["payload"]["account"] == "skipper"
