"""The operations pages in Chromium: the queues, a dead letter inspected and released from its page
(it becomes an item through the real itemwriter on the real RabbitMQ), a mail's trace, the loop
breakers and the failing addresses reset and cleared, users and API tokens; and what an agent may not
open or do."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from services.app import tokens
from services.itemwriter.handlers import make_handler
from shared.db.models import ApiToken, Contact, Item, LoopBreaker, utcnow
from shared.runner import to_outgoing
from shared.service import topology_from
from tests.console.conftest import ADMIN, AGENT, Tab
from tests.support.broker_admin import queue_depth
from tests.support.items import add, add_account, mail
from tests.support.pipeline import consuming, fetched
from tests.support.waiting import wait_for


def test_the_queues_page_shows_every_stage_and_says_which_has_no_consumer(tab: Tab) -> None:
    tab.console.service.broker.declare()
    tab.sign_in(ADMIN)
    tab.open("/operations")
    page = tab.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Queues")
    table = page.locator("#queues table")
    for stage in ("parser", "itemwriter", "notifier"):
        expect(table.locator("tr.work", has_text=stage)).to_have_count(1)
        expect(table.locator("tr.dlq", has_text=stage)).to_have_count(1)
    # Nothing consumes in this test: every work queue says so.
    expect(table.locator("tr.work", has_text="no consumer")).to_have_count(3)
    # The table asks again by itself: a mail waiting for the parser shows without a reload.
    topology = topology_from(tab.console.settings)
    tab.console.service.broker.publish([to_outgoing(fetched("waiting-1"))])
    parser_row = table.locator("tr.work", has_text=topology.queue("parser"))
    expect(parser_row.locator("td").nth(3)).to_have_text("1", timeout=15_000)
    assert not tab.violations


def test_a_dead_letter_is_inspected_and_released_from_its_page_and_becomes_an_item(tab: Tab) -> None:
    console = tab.console
    topology = topology_from(console.settings)
    stranded = mail(account="later", subject="Scanner jammed")  # an account not applied yet
    with consuming(console.service.broker, "itemwriter", make_handler(console.sessions), max_retries=0,
                   retry_step=topology.retry_step):
        # Twice, as a consumer killed before its ack dead-letters a message again: one letter, two copies.
        console.service.broker.publish([to_outgoing(stranded), to_outgoing(stranded)])
        dlq = topology.dead_letter_queue("itemwriter")
        wait_for(lambda: queue_depth(console.settings.amqp_url, dlq) == 2, timeout=15, what="the dead letters")
        tab.sign_in(ADMIN)
        tab.open("/operations/dead-letters")
        page = tab.page
        row = page.locator("table.letters tbody tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("unknown account 'later'")
        expect(row).to_contain_text("Scanner jammed")
        row.get_by_role("link").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(stranded.message_id)
        expect(page.locator(".facts").first).to_contain_text("itemwriter")
        expect(page.locator(".facts").first).to_contain_text("Copies2: dead-lettered again")
        add_account(console.sessions, "later")  # the cause mended; then the letter is released
        page.get_by_role("button", name="Replay").click()
        expect(page.get_by_role("status")).to_contain_text(f"{stranded.message_id} went back to")
        expect(page.locator("table.letters")).to_have_count(0)
        wait_for(lambda: queue_depth(console.settings.amqp_url, dlq) == 0, timeout=15, what="both copies settled")

        def made() -> bool:
            with console.sessions() as session:
                return session.scalar(select(Item).where(Item.title == "Scanner jammed")) is not None

        wait_for(made, timeout=15, what="the released mail's item")
    tab.open("/items")
    expect(page.locator("#results")).to_contain_text("Scanner jammed")
    assert not tab.violations


def test_a_mails_trace_is_one_click_from_its_item(tab: Tab) -> None:
    number = tab.console.customer_mail(subject="Toner empty")
    tab.sign_in(AGENT)
    tab.open(f"/items/incident/{number}")
    page = tab.page
    page.get_by_role("link", name="trace").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("What happened to mail")
    expect(page.locator("main")).to_contain_text("support")  # fetched by the account
    expect(page.locator("main")).to_contain_text("new: no reply signal: new item")
    expect(page.get_by_role("link", name=f"incident #{number}")).to_be_visible()


def test_an_admin_resets_a_loop_breaker_and_clears_a_failing_address(tab: Tab) -> None:
    sessions, now = tab.console.sessions, utcnow()
    add(sessions, LoopBreaker(account="support", scope="recipient", key="robot@loop.example", opened_at=now,
                              open_until=now + timedelta(hours=1), reason="13 auto-replies in 10 minutes", trips=3),
        Contact(email="gone@customer.example", failing=True, failing_reason="550 5.1.1 no such user",
                failing_since=now))
    tab.sign_in(ADMIN)
    tab.open("/operations/breakers")
    page = tab.page
    row = page.locator("table.breakers tbody tr")
    expect(row).to_contain_text("robot@loop.example")
    expect(row).to_contain_text("open until")
    page.get_by_role("button", name="Reset the breaker for robot@loop.example in support").click()
    expect(page.get_by_role("status")).to_contain_text("the breaker for robot@loop.example in support is reset")
    expect(page.locator("table.breakers")).to_have_count(0)
    page.get_by_role("link", name="Failing addresses").click()
    expect(page.locator("table.contacts")).to_contain_text("550 5.1.1 no such user")
    page.get_by_role("button", name="Clear gone@customer.example").click()
    expect(page.get_by_role("status")).to_contain_text("gone@customer.example is no longer flagged")
    with sessions() as session:
        assert session.scalar(select(LoopBreaker)) is None
        assert session.scalar(select(Contact.failing).where(Contact.email == "gone@customer.example")) is False
    assert not tab.violations


def test_an_agent_sees_breakers_but_cannot_reset_them_nor_open_the_admin_pages(tab: Tab) -> None:
    now = utcnow()
    add(tab.console.sessions, LoopBreaker(account="support", scope="recipient", key="robot@loop.example",
                                          opened_at=now, open_until=now + timedelta(hours=1), reason="cap", trips=1))
    tab.sign_in(AGENT)
    tab.open("/operations")
    page = tab.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Loop breakers")
    expect(page.locator("table.breakers")).to_contain_text("robot@loop.example")
    expect(page.get_by_role("button", name="Reset", exact=False)).to_have_count(0)
    for path in ("/operations/queues", "/operations/dead-letters", "/operations/people"):
        answer = tab.open(path)
        assert answer.status == 403, path
        expect(page.locator("main")).to_contain_text("needs the admin role")
    expect(page.get_by_role("navigation", name="Operations").get_by_role("link", name="Queues")).to_have_count(0)


def test_an_admin_adds_a_user_creates_a_token_shown_once_and_revokes_it(tab: Tab) -> None:
    tab.sign_in(ADMIN)
    tab.open("/operations/people")
    page = tab.page
    page.get_by_label("Email").fill("new@ours.example")
    page.get_by_label("Name", exact=True).fill("New Person")
    page.get_by_label("Password (12 characters at least)").fill("short")
    page.get_by_role("button", name="Add user").click()
    expect(page.locator("#user-error")).to_contain_text("use at least 12")
    expect(page.get_by_label("Email")).to_have_value("new@ours.example")
    expect(page.get_by_label("Password (12 characters at least)")).to_have_value("")  # never typed back
    page.get_by_label("Password (12 characters at least)").fill("a long enough password")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status")).to_contain_text("new@ours.example can sign in as agent")
    page.get_by_label("For the user").select_option("new@ours.example")
    page.get_by_label("Name (what it is for)").fill("ticket export")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("Token", exact=True).input_value()
    assert secret.startswith("prt_")
    with tab.console.sessions() as session:
        stored = session.scalar(select(ApiToken).where(ApiToken.name == "ticket export"))
        assert stored is not None and secret not in str(stored.__dict__)
        assert tokens.resolve(session, secret) is not None
    tab.open("/operations/people")
    assert secret not in page.content()  # shown once only
    page.get_by_role("button", name="Revoke token ticket export of new@ours.example").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    with tab.console.sessions() as session:
        assert tokens.resolve(session, secret) is None
    page.get_by_role("button", name="Disable new@ours.example").click()
    expect(page.get_by_role("status")).to_contain_text("new@ours.example is disabled")
    assert not tab.violations
