"""The whole loop in a real Chromium over the real pipeline: a customer's mail APPENDed to a real
Dovecot is fetched, parsed and written by the real services (each built by its composition root, in a
thread, over the real RabbitMQ), shows in the agent's item list without a reload; the agent's reply
leaves through the relay and the real notifier to a real SMTP server; the customer's answer to it
lands on the same item; a watcher added on the page is told of the status change."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.api.server import start_relay
from services.app import users
from services.app.accountedits import add_account
from services.fetcher.bootstrap import build as build_fetcher
from services.itemwriter.bootstrap import build as build_itemwriter
from services.itemwriter.settings import ItemwriterSettings
from services.notifier.bootstrap import build as build_notifier
from services.notifier.settings import NotifierSettings
from services.parser.bootstrap import build as build_parser
from services.parser.settings import ParserSettings
from shared.db.engine import transaction
from shared.db.models import AccountHealth, Item, ItemMail
from shared.health import HealthState
from shared.secrets import SecretBox
from shared.service import ConsumerService, broker_from
from tests.console.conftest import ADMIN, AGENT, Console, Tab
from tests.support.accountcli import declare_projects
from tests.support.dovecot import MailUser
from tests.support.fetching import fetcher_settings, imap_account
from tests.support.items import TOKENS
from tests.support.pipeline import TOKEN_SECRET, running
from tests.support.smtp import Received, RecordingHandler
from tests.support.waiting import wait_for

ACCOUNT = "helpdesk"
OURS = "helpdesk@ours.example"
CUSTOMER = "carla@customer.example"
WATCHER = "lead@team.example"
PIPELINE_TIMEOUT = 20_000  # ms: fetched (IDLE), parsed, written, then the list's next look (every 5 s)


@dataclass
class Desk:
    """The console with the pipeline running behind it: the mailbox it reads, the SMTP server it sends to."""

    console: Console
    mailbox: MailUser
    smtp: RecordingHandler

    def customer_writes(self, subject: str, text: str, answering: EmailMessage | None = None) -> str:
        """The customer's mail APPENDed to the mailbox (as their MTA delivers it); its Message-ID.
        ``answering``: our mail the customer's client replies to (threaded as RFC 5322 3.6.4 asks).
        Written out by hand: ``email``'s default policy folds a long Message-ID in In-Reply-To into
        encoded words, which no mail client sends."""
        message_id = make_msgid(domain="customer.example")
        thread = ""
        if answering is not None:
            references = " ".join(filter(None, (answering["References"], answering["Message-ID"])))
            thread = f"In-Reply-To: {answering['Message-ID']}\r\nReferences: {references}\r\n"
        self.mailbox.append((f"From: Carla Customer <{CUSTOMER}>\r\nTo: {OURS}\r\nSubject: {subject}\r\n"
                             f"Message-ID: {message_id}\r\nDate: {format_datetime(datetime.now(UTC))}\r\n{thread}"
                             f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n").encode())
        return message_id

    def sent_to(self, address: str) -> list[Received]:
        return [r for r in self.smtp.received if r.rcpt_tos == [address]]

    def item(self) -> Item:
        with self.console.sessions() as session:
            [found] = session.scalars(select(Item).where(Item.account == ACCOUNT))  # one item, never two
            return found

    def mails(self, direction: str) -> list[ItemMail]:
        with self.console.sessions() as session:
            return list(session.scalars(select(ItemMail).join(Item, Item.id == ItemMail.item_id)
                                        .where(Item.account == ACCOUNT, ItemMail.direction == direction)
                                        .order_by(ItemMail.id)))


def _fetched_once(sessions: sessionmaker[Session]) -> bool:
    """The fetcher has been through the mailbox once (its first sync: what is there now is archived)."""
    with sessions() as session:
        health = session.get(AccountHealth, ACCOUNT)
        return health is not None and health.last_success_at is not None


@pytest.fixture
def desk(console: Console, mail_user: MailUser, smtp_server: tuple[RecordingHandler, int],
         secret_key: str) -> Iterator[Desk]:
    sessions, settings = console.sessions, console.settings
    declare_projects(sessions)
    with transaction(sessions) as session:  # as the admin adds it from the console's form
        admin = users.actor_of(users.find_user(session, ADMIN[0]))
        add_account(session, admin, imap_account(mail_user, ACCOUNT, existing_mail=None) | {
            "address": OURS, "project": "Support"}, SecretBox([secret_key]))
    common: dict[str, Any] = {"amqp_url": settings.amqp_url, "broker_namespace": settings.broker_namespace,
                              "store_dir": settings.store_dir}
    fetcher = fetcher_settings(settings.database_url, settings.var_dir, secret_key, **common)
    stages: list[ConsumerService] = [
        build_parser(ParserSettings(database_url=settings.database_url, token_secret=TOKEN_SECRET, **common),
                     HealthState()),
        build_itemwriter(ItemwriterSettings(database_url=settings.database_url, **common), HealthState()),
        build_notifier(NotifierSettings(database_url=settings.database_url, token_secret=TOKEN_SECRET,
                                        smtp_host="127.0.0.1", smtp_port=smtp_server[1], console_url=console.url,
                                        **common), HealthState()),
    ]
    fetcher_broker = broker_from(fetcher)
    with running(build_fetcher(fetcher, HealthState(), fetcher_broker), *stages) as stop:
        start_relay(console.service, settings, stop)  # the API's relay, as the API process runs it
        wait_for(lambda: all(stage.health.ready for stage in stages), what="the parser, itemwriter and notifier")
        wait_for(lambda: _fetched_once(sessions), timeout=20, what="the fetcher's first look at the mailbox")
        yield Desk(console, mail_user, smtp_server[0])
    for broker in (fetcher_broker, *(stage.broker for stage in stages)):
        broker.close()


def test_a_customers_mail_is_answered_from_the_console_and_the_thread_and_the_watcher_follow(
        tab: Tab, desk: Desk) -> None:
    page = tab.page
    tab.sign_in(AGENT)
    tab.open("/items")
    page.evaluate("window.notReloaded = true")

    # 1. The customer writes; the list the agent has open shows the new item by itself.
    first_id = desk.customer_writes("The VPN drops every hour", "Since Monday, every hour on the hour.")
    row = page.locator("#results tbody tr", has_text="The VPN drops every hour")
    expect(row).to_have_count(1, timeout=PIPELINE_TIMEOUT)
    assert page.evaluate("window.notReloaded") is True, "the list was reloaded"
    item = desk.item()
    assert (item.status, item.title) == ("new", "The VPN drops every hour")
    assert [m.from_address for m in desk.mails("in")] == [CUSTOMER]

    # 2. The agent opens it and replies; the customer's server receives the reply, our token in it.
    row.get_by_role("link", name=f"incident #{item.number}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("The VPN drops every hour")
    page.get_by_label("Message").fill("We are looking into it: which office are you in?")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#replies .reply .delivery")).to_have_text("sent", timeout=PIPELINE_TIMEOUT)
    [reply] = [r.message for r in desk.sent_to(CUSTOMER) if "which office" in _text(r.message)]
    assert f"[#{item.number}]" in reply["Subject"] and reply["From"] == f"Ann Agent <{OURS}>"
    assert reply["In-Reply-To"] == first_id
    assert [(t.number, t.valid) for t in TOKENS.items_in_message_id(reply["Message-ID"], CUSTOMER)] == [
        (item.number, True)]

    # 3. The customer answers the reply: the answer is on the same item, and no new item is made.
    answer_id = desk.customer_writes(str(reply["Subject"]), "The Leeds office, third floor.", answering=reply)
    wait_for(lambda: [m.message_id for m in desk.mails("in")] == [first_id, answer_id], timeout=20,
             what="the customer's answer on the item")
    page.reload()
    inbound = page.locator("#mails article.mail.in")
    expect(inbound).to_have_count(2)
    expect(inbound.nth(1)).to_contain_text("The Leeds office, third floor.")
    # Placed by the token our reply's Message-ID carried, issued to this very customer.
    expect(inbound.nth(1).locator(".why")).to_contain_text(f"our token for #{item.number} in in-reply-to")
    assert desk.item().id == item.id
    # The agent answers again: threaded to the answer, our first reply's Message-ID whole in References.
    page.get_by_label("Message").fill("Thanks: a technician is on the way to Leeds.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#replies .reply .delivery")).to_have_text(["sent", "sent"], timeout=PIPELINE_TIMEOUT)
    [again] = [r for r in desk.sent_to(CUSTOMER) if "on the way" in _text(r.message)]
    assert again.message["In-Reply-To"] == answer_id and b"=?" not in again.data.split(b"\r\n\r\n")[0]
    assert again.message["References"].split() == [first_id, reply["Message-ID"], answer_id]

    # 4. The agent adds a watcher and changes the status: the watcher is told.
    page.get_by_label("Add a watcher").fill(WATCHER)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#watchers ul.watchers")).to_contain_text(WATCHER)
    page.get_by_label("Status").select_option("waiting")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#item-status")).to_have_text("waiting")
    [told] = wait_for(lambda: desk.sent_to(WATCHER), timeout=20, what="the watcher's notification")
    assert told.message["Subject"].startswith(f"[#{item.number}] Status waiting")
    assert AGENT[0] in _text(told.message)
    assert desk.item().status == "waiting"
    # What the customer received in all: the auto-reply to the first mail and the agent's two replies;
    # their answer, in the thread of our reply, got no second auto-reply.
    assert [r.message["Auto-Submitted"] for r in desk.sent_to(CUSTOMER)] == ["auto-replied", None, None]
    assert tab.violations == []


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""
