"""The held mail pages in Chromium: a mail for an inactive account goes through the real parser and
itemwriter consumers on the real RabbitMQ and is held; an admin finds it in the list, inspects it,
previews a release (which changes nothing), releases it and it becomes an item; another is
discarded; an agent can open none of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime

from playwright.sync_api import expect
from sqlalchemy import func, select, update

from services.itemwriter.handlers import make_handler as make_itemwriter
from services.parser.handlers import make_handler as make_parser
from services.parser.limits import Limits
from shared.contracts import Envelope, MailFetched
from shared.db.engine import transaction
from shared.db.models import Account, HeldMail, Item
from shared.runner import to_outgoing
from shared.service import topology_from
from tests.console.conftest import ADMIN, AGENT, Console, Tab
from tests.support.items import TOKENS
from tests.support.pipeline import consuming
from tests.support.waiting import wait_for


def _raw(subject: str, n: int) -> bytes:
    return (f"From: Alice <alice@customer.example>\r\nTo: support@ours.example\r\nSubject: {subject}\r\n"
            f"Message-ID: <held-{n}@customer.example>\r\nDate: Thu, 26 Nov 2026 09:30:00 +0000\r\n\r\n"
            "It is on fire.\r\n").encode()


@contextmanager
def pipeline(console: Console) -> Iterator[None]:
    """The real parser and itemwriter handlers, consuming from the real broker."""
    topology = topology_from(console.settings)
    store = console.service.context.store
    with ExitStack() as stack:
        stack.enter_context(consuming(console.service.broker, "parser", make_parser(store, TOKENS, Limits()),
                                      max_retries=1, retry_step=topology.retry_step))
        stack.enter_context(consuming(console.service.broker, "itemwriter", make_itemwriter(console.sessions),
                                      max_retries=3, retry_step=topology.retry_step))
        yield


def _hold(console: Console, *subjects: str) -> None:
    """The account made inactive, then each mail fetched for it: the rules hold them."""
    with transaction(console.sessions) as session:
        session.execute(update(Account).where(Account.name == "support").values(active=False))
    for n, subject in enumerate(subjects):
        ref = console.service.context.store.put(_raw(subject, n))
        console.service.broker.publish([to_outgoing(Envelope.first(MailFetched(
            account="support", source="stdin", source_id=f"stdin:held-{n}", raw=ref,
            received_at=datetime.now(UTC))))])
    wait_for(lambda: _counts(console)[1] == len(subjects), timeout=20, what="the mails held")


def _counts(console: Console) -> tuple[int, int]:
    """(items, held rows still held)."""
    with console.sessions() as session:
        return (session.scalar(select(func.count()).select_from(Item)) or 0,
                session.scalar(select(func.count()).select_from(HeldMail).where(HeldMail.state == "held")) or 0)


def test_an_admin_previews_and_releases_a_held_mail_into_an_item_and_discards_another(tab: Tab) -> None:
    console = tab.console
    with pipeline(console):
        _hold(console, "Printer on fire", "Spam offer")
        tab.sign_in(ADMIN)
        tab.open("/operations")
        page = tab.page
        page.get_by_role("navigation", name="Operations").get_by_role("link", name="Held mail").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Held mail")
        rows = page.locator("table.held tbody tr")
        expect(rows).to_have_count(2)
        fire = rows.filter(has_text="Printer on fire")
        expect(fire).to_contain_text("inactive-account")
        expect(fire).to_contain_text("account support is inactive")
        fire.get_by_role("link").click()

        expect(page.get_by_role("heading", level=1)).to_contain_text("Printer on fire")
        expect(page.locator("#held-facts")).to_contain_text("<held-0@customer.example>")
        page.get_by_text("Headers").click()
        expect(page.locator(".headers")).to_contain_text("alice@customer.example")
        page.get_by_role("button", name="Preview release", exact=True).click()
        expect(page.locator("#preview-summary")).to_contain_text("would be held back again by the rule inactive-account")
        page.get_by_role("button", name="Preview release with the rule set aside").click()
        expect(page.locator("#preview-summary")).to_contain_text("would create incident #")
        assert _counts(console) == (0, 2), "a preview changes nothing"
        page.get_by_role("button", name="Release with the rule set aside", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("released with the rule inactive-account set aside")
        expect(rows).to_have_count(1)
        console.service.relay.publish_pending()  # as the relay does after the commit
        wait_for(lambda: _counts(console)[0] == 1, timeout=20, what="the released mail made an item")

    page.get_by_label("State").select_option("released")
    page.get_by_role("button", name="Show").click()
    page.locator("table.held tbody tr", has_text="Printer on fire").get_by_role("link").click()
    expect(page.locator("#held-facts")).to_contain_text(f"released by {ADMIN[0]}")
    page.get_by_role("link", name="incident #").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Printer on fire")

    tab.open("/operations/held")
    rows.filter(has_text="Spam offer").get_by_role("link").click()
    page.get_by_role("button", name="Discard").click()
    expect(page.get_by_role("status")).to_contain_text("discarded")
    expect(page.locator("table.held")).to_have_count(0)
    with console.sessions() as session:
        assert session.scalar(select(HeldMail).where(HeldMail.subject == "Spam offer")) is None
    assert _counts(console) == (1, 0)
    assert tab.violations == []


def test_an_agent_cannot_open_the_held_mail_nor_release_it(tab: Tab) -> None:
    console = tab.console
    with pipeline(console):
        _hold(console, "Printer on fire")
    with console.sessions() as session:
        held_id = session.scalar(select(HeldMail.id))
    tab.sign_in(AGENT)
    page = tab.page
    for path in ("/operations/held", f"/operations/held/{held_id}", f"/operations/held/{held_id}/preview"):
        answer = tab.open(path)
        assert answer.status == 403, path
        expect(page.locator("main")).to_contain_text("needs the admin role")
    tab.open("/operations/breakers")
    nav = page.get_by_role("navigation", name="Operations")
    expect(nav.get_by_role("link", name="Loop breakers")).to_be_visible()
    expect(nav.get_by_role("link", name="Held mail")).to_have_count(0)
    csrf = page.locator('input[name="csrf"]').first.get_attribute("value")
    for action in ("release", "discard"):
        answer = page.request.post(f"{console.url}/operations/held/{held_id}/{action}", form={"csrf": csrf or ""})
        assert answer.status == 403, action
    assert _counts(console) == (0, 1)
    stranger = page.context.browser.new_context()
    answer = stranger.request.get(f"{console.url}/operations/held", max_redirects=0)
    assert answer.status == 303 and answer.headers["location"] == "/sign-in"
    stranger.close()
