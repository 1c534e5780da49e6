"""An admin edits an account's auto-reply in the console: the preview follows the typing without a
reload, a template that would not render is shown with its line and reason and is not saved, and a
good one is saved and is what the account's mail is rendered with from then on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from services.app.actors import Actor
from services.app.templatepreview import Against, preview
from shared.db.engine import transaction
from shared.db.models import Account, ItemMail
from shared.secrets import new_key
from tests.console.conftest import ADMIN, AGENT, Console, Tab


def _stored(console: Console) -> dict[str, object]:
    with transaction(console.sessions) as session:
        account = session.scalar(select(Account).where(Account.name == "support"))
        assert account is not None
        return dict(account.config or {}).get("templates") or {}


def _keyed(console: Console) -> None:
    (Path(console.settings.var_dir) / "secret.key").write_text(new_key())


def test_an_admin_edits_the_auto_reply_with_a_live_preview_and_saves_only_what_renders(tab: Tab) -> None:
    _keyed(tab.console)
    number = tab.console.customer_mail(subject="Printer on fire", sender="carol@customer.example")
    with transaction(tab.console.sessions) as session:
        mail_id = session.scalar(select(ItemMail.id).where(ItemMail.subject == "Printer on fire"))
    tab.sign_in(ADMIN)
    tab.open("/accounts")
    tab.page.locator("#account-support").get_by_role("link", name="templates").click()
    page = tab.page
    page.get_by_label("Text").wait_for()
    assert "thank you for your message" in page.get_by_label("Text").input_value()  # the stock one to start from
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Text").fill("Dear {{ mail.from_address }},\nwe filed {{ item.title }} as {{ token }}.")
    page.locator(".preview-text", has_text="we filed").wait_for()
    page.get_by_label("Preview with").select_option(str(mail_id))
    page.locator(".preview-text", has_text="Dear carol@customer.example").wait_for()
    assert f"#{number}" in page.locator(".preview-text").inner_text()
    assert "Printer on fire" in page.locator(".preview-text").inner_text()

    page.get_by_label("Text").fill("Dear {{ mail.from_address }},\n{{ item.owner }}")
    page.locator("#template-problems").wait_for()
    problem = page.locator("#template-problems").inner_text()
    assert "auto-reply.text, line 2: item has no 'owner'" in problem
    assert page.evaluate("window.notReloaded") is True  # the preview came without a reload
    page.get_by_role("button", name="Save").click()
    page.locator("#save-problems").wait_for()
    assert "auto-reply.text, line 2: item has no 'owner'" in page.locator("#save-problems").inner_text()
    assert page.get_by_label("Text").input_value() == "Dear {{ mail.from_address }},\n{{ item.owner }}"  # kept
    assert _stored(tab.console) == {}

    page.get_by_label("Text").fill("Dear {{ mail.from_address }},\nyour {{ item.type }} is {{ token }}.")
    page.get_by_role("button", name="Save").click()
    page.locator("#template-saved").wait_for()
    saved = _stored(tab.console)["auto-reply"]
    assert saved["text"] == "Dear {{ mail.from_address }},\nyour {{ item.type }} is {{ token }}."  # type: ignore[index]
    assert page.get_by_label("Text").input_value() == saved["text"]  # type: ignore[index]
    assert "(own)" in page.get_by_role("link", name="auto-reply (own)").inner_text()
    with transaction(tab.console.sessions) as session:  # the account's mail is rendered with it now
        admin = Actor(user_id=0, email=ADMIN[0], role="admin", name="Root")
        rendered = preview(session, admin, "auto-reply", {}, Against(mail_id=mail_id),
                           tab.console.service.context.tokens, account="support")
    assert rendered["text"] == f"Dear carol@customer.example,\nyour incident is {rendered['subject'].split()[0]}."
    assert tab.violations == []


def test_the_template_page_is_for_admins(tab: Tab) -> None:
    tab.sign_in(AGENT)
    assert tab.open("/accounts/support/template").status == 403
