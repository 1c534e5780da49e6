"""People working items in the console, in a real Chromium: the list and its filters, the item page,
replying (the real notifier sends it to a real SMTP server), changing, watching, merging, downloads."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from shared.db.models import Item, ItemAttachment, ItemEvent, ItemMail
from shared.store import FilesystemBlobStore
from tests.console.conftest import ADMIN, AGENT, Tab
from tests.support.smtp import RecordingHandler


def test_an_agent_signs_in_opens_an_item_and_replies_and_the_reply_shows_as_queued_then_sent(
        tab: Tab, smtp_server: tuple[RecordingHandler, int]) -> None:
    smtp, port = smtp_server
    number = tab.console.customer_mail(sender="alice@customer.example", subject="Printer on fire")
    tab.sign_in(AGENT)
    page = tab.page
    page.get_by_role("link", name=f"incident #{number}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Printer on fire")
    page.get_by_label("Message").fill("We are on it.")
    page.get_by_label("Cc").fill("bob@customer.example")
    page.get_by_label("Attachments").set_input_files(
        files=[{"name": "steps.txt", "mimeType": "text/plain", "buffer": b"1. unplug it\n"}])
    page.get_by_role("button", name="Send reply").click()
    reply = page.locator("#replies .reply")
    expect(reply).to_have_count(1)
    expect(reply.locator(".delivery")).to_have_text("queued")
    expect(reply).to_contain_text("to alice@customer.example, cc bob@customer.example")
    tab.console.deliver(port)
    # The page asks for the replies while one is under way: no reload.
    expect(reply.locator(".delivery")).to_have_text("sent")
    assert len(smtp.received) == 1 and sorted(smtp.received[0].rcpt_tos) == ["alice@customer.example",
                                                                          "bob@customer.example"]
    message = smtp.received[0].message
    assert f"[#{number}]" in message["Subject"] and str(message["From"]) == "Ann Agent <support@ours.example>"
    assert [p.get_filename() for p in message.iter_attachments()] == ["steps.txt"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "We are on it." in body.get_content()
    assert tab.violations == []


def test_an_item_whose_auto_reply_went_shows_the_auto_reply_in_its_thread(
        tab: Tab, smtp_server: tuple[RecordingHandler, int]) -> None:
    smtp, port = smtp_server
    number = tab.console.auto_replied_mail(port, sender="alice@customer.example", subject="Printer on fire")
    assert [r.rcpt_tos for r in smtp.received] == [["alice@customer.example"]]
    tab.sign_in(AGENT)
    tab.open(f"/items/incident/{number}")
    mails = tab.page.locator("#mails article.mail")
    expect(mails).to_have_count(2)
    expect(mails.nth(0).locator("details.decision")).to_contain_text("Why it is here")
    expect(mails.nth(1)).to_have_class("mail out")  # our own mail: no decision to explain
    expect(mails.nth(1).locator("details.decision")).to_have_count(0)
    expect(mails.nth(1).locator(".subject")).to_contain_text(f"[#{number}]")


def test_an_agent_changes_the_status_step_and_assignee_and_the_page_shows_it(tab: Tab) -> None:
    number = tab.console.customer_mail(subject="Scanner offline")
    tab.sign_in(AGENT)
    page = tab.page
    page.get_by_role("link", name="Scanner offline", exact=True).click()  # the title opens the item too
    expect(page).to_have_url(f"{tab.console.url}/items/incident/{number}")
    page.get_by_label("Status").select_option("waiting")
    page.get_by_label("Assignee").select_option(AGENT[0])
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#item-status")).to_have_text("waiting")
    expect(page.locator("#item-assignee")).to_have_text(AGENT[0])
    expect(page.locator("#history")).to_contain_text(f"{AGENT[0]} edited")
    # Entering a step sets the step's status, as from the API.
    page.get_by_label("Workflow step").select_option("in-progress")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#item-step")).to_have_text("in-progress")
    expect(page.locator("#item-status")).to_have_text("open")
    tab.open("/items?status=open")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    # The list narrowed by step and assignee, from its selects, without a reload.
    other = tab.console.customer_mail(subject="Monitor flickers")
    tab.open("/items")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Assignee").select_option("nobody")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(f"incident #{other}")
    page.get_by_label("Assignee").select_option(AGENT[0])
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(f"incident #{number}")
    page.get_by_label("Assignee").select_option("anyone")
    page.get_by_label("Step").select_option("triage")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(f"incident #{other}")


def test_a_refused_change_is_explained_next_to_its_form_and_nothing_is_kept(tab: Tab) -> None:
    number = tab.console.customer_mail()
    tab.sign_in(AGENT)
    tab.open(f"/items/incident/{number}")
    page = tab.page
    page.get_by_label("Add a watcher").fill("not an address")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#watchers-error")).to_have_text("'not an address' is not an email address")
    expect(page.get_by_label("Add a watcher")).to_have_value("not an address")
    page.get_by_label("Merge into incident number").fill("999")
    page.get_by_role("button", name="Merge").click()
    expect(page.locator("#merge-error")).to_have_text("no incident #999")
    assert "Traceback" not in page.content()
    with tab.console.sessions() as session:
        assert session.scalars(select(ItemEvent)).all() == []


def test_an_agent_adds_and_removes_a_watcher(tab: Tab) -> None:
    number = tab.console.customer_mail()
    tab.sign_in(AGENT)
    tab.open(f"/items/incident/{number}")
    page = tab.page
    page.get_by_label("Add a watcher").fill("Watcher@Team.example")
    page.get_by_role("button", name="Add", exact=True).click()
    watchers = page.locator("#watchers ul.watchers")
    expect(watchers).to_contain_text("watcher@team.example")
    page.get_by_role("button", name="Remove watcher@team.example").click()
    expect(watchers).not_to_contain_text("watcher@team.example")
    expect(page.locator("#history")).to_contain_text("watcher-removed")


def test_an_agent_merges_a_follow_up_into_the_first_item_and_lands_on_it(tab: Tab) -> None:
    first = tab.console.customer_mail(subject="Printer on fire")
    second = tab.console.customer_mail(sender="bob@customer.example", subject="Printer still burning")
    tab.sign_in(AGENT)
    tab.open(f"/items/incident/{second}")
    page = tab.page
    page.get_by_label("Merge into incident number").fill(str(first))
    page.get_by_role("button", name="Merge").click()
    expect(page).to_have_url(f"{tab.console.url}/items/incident/{first}")
    expect(page.locator("#mails article.mail")).to_have_count(2)
    tab.open(f"/items/incident/{second}")
    expect(page.get_by_role("status")).to_contain_text(f"Merged into incident #{first}")
    expect(page.get_by_role("button", name="Send reply")).to_have_count(0)


def test_the_list_filters_by_status_project_and_text_and_pages_through_older_items(tab: Tab) -> None:
    for n in range(27):
        tab.console.customer_mail(subject=f"Printer {n} jammed", sender=f"c{n}@customer.example")
    smoking = tab.console.customer_mail(subject="Scanner is smoking", sender="s@customer.example")
    tab.sign_in(AGENT)
    page = tab.page
    tab.open("/items")
    rows = page.locator("#results tbody tr")
    expect(page.locator("#results .count")).to_have_text("28 items, page 1 of 2")
    expect(rows).to_have_count(25)
    page.get_by_role("link", name="Older").click()
    expect(rows).to_have_count(3)
    expect(page).to_have_url(f"{tab.console.url}/items?page=2")
    page.get_by_label("Text").fill("smoking")  # searched as it is typed
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"incident #{smoking}")
    page.get_by_label("Text").fill("")
    page.get_by_label("Status").select_option("closed")
    expect(page.locator("#results")).to_contain_text("No item matches.")
    page.get_by_label("Status").select_option("")
    page.get_by_label("Project").select_option("Support")
    expect(page.locator("#results .count")).to_have_text("28 items, page 1 of 2")
    assert tab.violations == []


def test_an_attachment_downloads_as_a_file_and_is_never_shown_inline(tab: Tab) -> None:
    number = tab.console.customer_mail()
    ref = FilesystemBlobStore(tab.console.settings.resolved_store_dir).put(b"<script>alert(1)</script>")
    with tab.console.sessions() as session, session.begin():
        item = session.scalar(select(Item).where(Item.number == number))
        assert item is not None
        mail_row = session.scalar(select(ItemMail).where(ItemMail.item_id == item.id))
        assert mail_row is not None
        session.add(ItemAttachment(item_id=item.id, mail_id=mail_row.id, filename="report.html",
                                   content_type="text/html", size=ref.size, sha256=ref.sha256, blob_key=ref.key))
    tab.sign_in(AGENT)
    tab.open(f"/items/incident/{number}")
    with tab.page.expect_download() as download:
        tab.page.get_by_role("link", name="report.html").click()
    assert download.value.suggested_filename == "report.html"
    assert open(download.value.path(), "rb").read() == b"<script>alert(1)</script>"
    expect(tab.page.get_by_role("heading", level=1)).to_contain_text("Printer on fire")  # still on the item


def test_an_agent_splits_a_second_question_off_into_an_item_of_its_own(tab: Tab) -> None:
    number = tab.console.customer_mail(sender="alice@customer.example", message_id="<a1@customer.example>")
    tab.console.customer_mail(sender="alice@customer.example", subject="Another thing entirely",
                              in_reply_to="<a1@customer.example>")
    tab.sign_in(AGENT)
    tab.open(f"/items/incident/{number}")
    page = tab.page
    mails = page.locator("#mails article.mail")
    expect(mails).to_have_count(2)
    mails.nth(1).get_by_role("button", name="Split off into a new item").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Another thing entirely")
    expect(page.locator("ul.links")).to_contain_text(f"split-from incident #{number}")
    tab.open(f"/items/incident/{number}")
    expect(mails).to_have_count(1)
    mails.first.get_by_role("button", name="Split off into a new item").click()
    expect(page.locator("#mails-error")).to_have_text("the item's only mail cannot be split off")


def test_every_control_has_a_label_and_the_pages_fit_a_phones_width(tab: Tab) -> None:
    number = tab.console.customer_mail()
    tab.sign_in(ADMIN)
    page = tab.page
    page.set_viewport_size({"width": 390, "height": 800})
    for path in ("/items", f"/items/incident/{number}", "/accounts"):
        tab.open(path)
        unlabelled = page.eval_on_selector_all(
            "input:not([type=hidden]), select, textarea, button",
            "els => els.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')"
            " && !e.textContent.trim()).map(e => e.outerHTML)")
        assert unlabelled == [], (path, unlabelled)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path


def test_a_new_item_shows_in_the_list_without_a_reload(tab: Tab) -> None:
    tab.console.customer_mail(subject="Printer on fire")
    tab.sign_in(AGENT)
    page = tab.page
    tab.open("/items?q=printer")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    page.evaluate("window.notReloaded = true")
    newer = tab.console.customer_mail(subject="Printer jammed", sender="bob@customer.example")
    tab.console.customer_mail(subject="Scanner is smoking", sender="carol@customer.example")  # not asked for
    expect(rows).to_have_count(2, timeout=15_000)
    expect(rows.first).to_contain_text(f"incident #{newer}")
    assert page.evaluate("window.notReloaded") is True


def test_a_customers_answer_arriving_while_the_item_is_open_is_announced_without_a_reload(tab: Tab) -> None:
    number = tab.console.customer_mail(sender="alice@customer.example", message_id="<q1@customer.example>")
    tab.sign_in(AGENT)
    tab.open(f"/items/incident/{number}")
    page = tab.page
    page.get_by_label("Message").fill("Half-typed answer")
    page.evaluate("window.notReloaded = true")
    expect(page.locator("#mail-news")).to_be_hidden()
    tab.console.customer_mail(sender="alice@customer.example", subject="Re: Printer on fire, now smoking",
                              in_reply_to="<q1@customer.example>")
    expect(page.locator("#mail-news")).to_contain_text("1 new mail on this item (Re: Printer on fire, now smoking)",
                                                       timeout=15_000)
    assert page.evaluate("window.notReloaded") is True
    assert page.get_by_label("Message").input_value() == "Half-typed answer"  # nothing redrawn under it
    page.locator("#mail-news").get_by_role("link", name="show").click()
    expect(page.locator("#mails article.mail")).to_have_count(2)
    expect(page.locator("#mails article.mail").nth(1)).to_contain_text("now smoking")
