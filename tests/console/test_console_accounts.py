"""Adding and changing an account in the console, in a real Chromium against a real Dovecot: the
provider's form with its defaults, Refresh Folders and Test connection on what is typed (saved or
not), the field mapping and default values tables, each refusal beside its field with what was typed
kept, secrets write-only, admins only."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from services.app.accountedits import add_account
from services.app.actors import Actor
from shared.db.engine import transaction
from shared.db.models import Account
from shared.items.declare import CatalogSpec, FieldSpec, StatusSpec, apply_catalog
from shared.secrets import SecretBox, new_key
from tests.console.conftest import ADMIN, AGENT, Console, Tab
from tests.console.test_console_forms import _signed_in
from tests.support.accountcli import declare_projects
from tests.support.dovecot import MailUser
from tests.support.items import handle, item, mail


@pytest.fixture
def keyed(console: Console) -> Console:
    """The console with a key to seal secrets with, and the projects the accounts name declared."""
    (Path(console.settings.var_dir) / "secret.key").write_text(new_key())
    declare_projects(console.sessions)
    return console


def _stored(console: Console, name: str) -> Account | None:
    with transaction(console.sessions) as session:
        account = session.scalar(select(Account).where(Account.name == name))
        if account is not None:
            session.expunge(account)
        return account


def _fill_imap(tab: Tab, user: MailUser, password: str) -> None:
    page = tab.page
    page.get_by_label("Account name").fill("helpdesk")
    page.get_by_label("Address").fill("helpdesk@ours.example")
    page.get_by_label("IMAP server").fill("127.0.0.1")
    page.get_by_label("TLS").select_option("none")
    page.get_by_label("Port", exact=True).fill(str(user.server.imap_port))
    page.get_by_label("User name").fill(user.name)
    page.get_by_label("Password").fill(password)


def _open_imap_form(tab: Tab) -> None:
    tab.sign_in(ADMIN)
    tab.open("/accounts")
    tab.page.get_by_role("link", name="Add account").click()
    tab.page.get_by_role("link", name="Other IMAP").click()
    expect(tab.page.get_by_role("heading", level=1)).to_contain_text("Add an account: Other IMAP")


def test_an_admin_adds_an_imap_account_picking_a_folder_loaded_from_the_mailbox_and_testing_it(
        tab: Tab, keyed: Console, mail_user: MailUser) -> None:
    """Refresh Folders and Test connection work on the unsaved form; Save stores what it shows."""
    mail_user.create_folder("Support")
    _open_imap_form(tab)
    page = tab.page
    expect(page.get_by_label("Folder to read")).to_have_value("INBOX")  # the recommended defaults
    expect(page.get_by_label("After a mail is imported")).to_have_value("delete")
    expect(page.get_by_label("Port", exact=True)).to_have_value("993")
    expect(page.get_by_label("Item type")).to_have_value("incident")
    expect(page.get_by_role("group", name="Creating items")).to_be_visible()
    expect(page.get_by_role("group", name="Email account actions")).to_be_visible()
    expect(page.get_by_role("group", name="Auto-reply")).to_be_visible()
    assert page.get_by_label("POP3 server").count() == 0 and page.get_by_label("Client secret").count() == 0
    _fill_imap(tab, mail_user, mail_user.password)
    page.get_by_label("Project (items are created in it)").select_option("IT")
    page.get_by_label("After a mail is imported").select_option("mark_read")
    page.get_by_role("button", name="Refresh Folders").click()
    folder = page.locator("select#field-folder")
    expect(folder.locator("option")).to_have_text(["INBOX", "Support"])
    page.get_by_label("Folder to read").select_option("Support")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#test-outcome")).to_contain_text("Connection works: helpdesk: connected and logged in")
    assert _stored(keyed, "helpdesk") is None  # trying is not saving
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{keyed.url}/accounts?done=added&account=helpdesk")
    expect(page.locator("#account-helpdesk")).to_contain_text("helpdesk@ours.example")
    expect(page.locator("#account-helpdesk")).to_contain_text("added")
    account = _stored(keyed, "helpdesk")
    assert account is not None and account.kind == "imap" and account.project == "IT"
    assert account.config["folder"] == "Support" and account.config["after_fetch"] == "mark_read"
    assert account.config["port"] == mail_user.server.imap_port and account.config["user"] == mail_user.name
    assert tab.violations == []


def test_a_wrong_password_names_the_login_as_the_failing_step_and_nothing_is_stored(
        tab: Tab, keyed: Console, mail_user: MailUser) -> None:
    _open_imap_form(tab)
    _fill_imap(tab, mail_user, "not-the-password-42")
    tab.page.get_by_role("button", name="Test connection").click()
    outcome = tab.page.locator("#test-outcome")
    expect(outcome).to_contain_text("Failed at login", timeout=20_000)  # Dovecot delays a refused login
    assert "not-the-password-42" not in tab.page.content()
    assert _stored(keyed, "helpdesk") is None


def test_a_bad_field_is_shown_beside_it_nothing_is_stored_and_what_was_typed_is_kept(
        tab: Tab, keyed: Console, mail_user: MailUser) -> None:
    _open_imap_form(tab)
    _fill_imap(tab, mail_user, mail_user.password)
    page = tab.page
    page.get_by_label("Port", exact=True).fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error-port")).to_contain_text("port: Input should be greater than or equal to 1")
    expect(page.get_by_label("Account name")).to_have_value("helpdesk")
    expect(page.get_by_label("IMAP server")).to_have_value("127.0.0.1")
    expect(page.get_by_label("TLS")).to_have_value("none")
    expect(page.get_by_label("Password")).to_have_value("")  # a secret is never sent back
    assert mail_user.password not in page.content()
    assert _stored(keyed, "helpdesk") is None


def test_an_undeclared_project_is_refused_beside_the_project(tab: Tab, keyed: Console, mail_user: MailUser) -> None:
    """What the form offers is the catalog; a value outside it (sent by hand) is refused by the same check."""
    _open_imap_form(tab)
    _fill_imap(tab, mail_user, mail_user.password)
    page = tab.page
    page.locator("#field-project").evaluate(
        "(s) => { const o = document.createElement('option'); o.value = o.textContent = 'Nowhere'; s.append(o); }")
    page.get_by_label("Project (items are created in it)").select_option("Nowhere")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error-project")).to_contain_text("project 'Nowhere' is not a declared project")
    expect(page.get_by_label("Project (items are created in it)")).to_have_value("Nowhere")
    assert _stored(keyed, "helpdesk") is None


def test_an_edit_changes_a_field_and_keeps_the_stored_password_never_shown(
        tab: Tab, keyed: Console, mail_user: MailUser) -> None:
    mail_user.create_folder("Support")
    _open_imap_form(tab)
    _fill_imap(tab, mail_user, mail_user.password)
    page = tab.page
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{keyed.url}/accounts?done=added&account=helpdesk")
    page.get_by_role("link", name="Edit helpdesk").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit helpdesk")
    expect(page.get_by_label("IMAP server")).to_have_value("127.0.0.1")
    expect(page.get_by_label("Password")).to_have_value("")
    assert mail_user.password not in page.content()
    # Refresh Folders and Test connection of a stored account, its password left empty: the stored one.
    page.get_by_role("button", name="Refresh Folders").click()
    expect(page.locator("select#field-folder option")).to_have_text(["INBOX", "Support"])
    page.get_by_label("Folder to read").select_option("Support")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#test-outcome")).to_contain_text("Connection works")
    page.get_by_label("Send it to the mail's Cc too").check()
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{keyed.url}/accounts?done=saved&account=helpdesk")
    account = _stored(keyed, "helpdesk")
    assert account is not None and account.config["folder"] == "Support" and account.config["auto_reply_cc"] is True
    box = SecretBox(keyed.settings.resolved_secret_keys)
    assert box.open(account.sealed_secrets) == {"password": mail_user.password}
    tab.open("/accounts/helpdesk/edit")
    assert mail_user.password not in page.content()
    expect(page.get_by_label("Folder to read")).to_have_value("Support")


def test_an_agent_s_or_a_forged_post_to_the_account_forms_is_refused_and_an_admin_s_is_saved(keyed: Console) -> None:
    """Saving, testing and loading folders: 403 for an agent; for an admin, 403 without the CSRF token."""
    form = {"kind": "dropfolder", "name": "drop", "address": "drop@ours.example", "path": "var/inbox/drop",
            "item_type": "incident", "project": "Support"}
    agent, agent_token = _signed_in(keyed, AGENT)
    for path in ("/accounts/new", "/accounts/new/test", "/accounts/new/folders", "/accounts/support/edit",
                 "/accounts/support/edit/test"):
        refused = agent.post(path, data=form | {"csrf": agent_token})
        assert refused.status_code == 403 and "needs the admin role" in refused.text, path
    admin, admin_token = _signed_in(keyed, ADMIN)
    assert admin.post("/accounts/new", data=form).status_code == 403
    assert _stored(keyed, "drop") is None
    # With the token it is saved; the folder left empty is the recommended one, named after the account.
    # A mapping row left at the recommended mail field stores nothing.
    saved = admin.post("/accounts/new", data=form | {"path": "", "csrf": admin_token, "field_mapping.title": "subject",
                                                     "field_mapping.description": "reply"})
    assert saved.status_code == 303 and saved.headers["location"] == "/accounts?done=added&account=drop"
    account = _stored(keyed, "drop")
    assert account is not None and account.config["path"].endswith("var/inbox/drop")
    assert account.field_mapping == {"description": "reply"}


@pytest.mark.parametrize("path", ["/accounts/new", "/accounts/new?kind=imap", "/accounts/support/edit"])
def test_an_agent_cannot_open_the_account_forms(tab: Tab, path: str) -> None:
    tab.sign_in(AGENT)
    answer = tab.open(path)
    assert answer.status == 403
    expect(tab.page.get_by_role("alert")).to_contain_text("needs the admin role")


def test_each_provider_s_form_offers_only_its_own_fields_with_their_defaults(tab: Tab, keyed: Console) -> None:
    tab.sign_in(ADMIN)
    tab.open("/accounts/new")
    links = tab.page.locator("ul.providers a")
    expect(links).to_have_count(5)
    expected = {"graph": ("Application (client) id", "inbox"), "gmail": ("OAuth client id", "INBOX"),
                "pop3": ("POP3 server", None), "dropfolder": ("Folder", None)}
    for kind, (label, folder) in expected.items():
        answer = tab.open(f"/accounts/new?kind={kind}")
        assert answer.status == 200
        expect(tab.page.get_by_label(label, exact=False).first).to_be_visible()
        if folder:
            control = "Labels to read" if kind == "gmail" else "Folder to read"
            expect(tab.page.get_by_label(control)).to_have_value(folder)
            expect(tab.page.get_by_role("button", name="Refresh Folders")).to_be_visible()
        else:
            assert tab.page.get_by_role("button", name="Refresh Folders").count() == 0
        assert tab.page.get_by_label("IMAP server").count() == 0
        # the item settings every kind has, ticked as the spec's defaults are
        expect(tab.page.get_by_label("Map senders to the known customers and users")).to_be_checked()
        expect(tab.page.get_by_label("No separate notification when an item is created from a mail")).to_be_checked()
    assert tab.violations == []


@pytest.fixture
def drop(keyed: Console) -> Console:
    """A drop folder account "helpdesk" with a default value and a setting the form does not show, and a
    catalog with statuses and custom fields to map and default."""
    with transaction(keyed.sessions) as session:
        apply_catalog(session, CatalogSpec(statuses=[StatusSpec(name="new"), StatusSpec(name="open")],
                                           custom_fields=[FieldSpec(name="minutes", kind="number"),
                                                          FieldSpec(name="priority", kind="choice",
                                                                    choices=["low", "high"])]))
        admin = Actor(user_id=0, email=ADMIN[0], role="admin", name="Root")
        add_account(session, admin, {"name": "helpdesk", "kind": "dropfolder", "address": "helpdesk@ours.example",
                                     "path": str(Path(keyed.settings.var_dir) / "inbox" / "helpdesk"),
                                     "project": "Support", "quiet_on_create": True,
                                     "default_values": {"priority": "low"}},
                    SecretBox(keyed.settings.resolved_secret_keys))
    return keyed


def test_an_admin_maps_an_item_field_and_sets_default_values_which_new_items_then_get(tab: Tab, drop: Console) -> None:
    tab.sign_in(ADMIN)
    tab.open("/accounts/helpdesk/edit")
    page = tab.page
    title = page.get_by_label("title", exact=True)
    expect(title).to_have_value("subject")  # the recommended one, marked
    expect(title.locator("option:checked")).to_have_text("subject (recommended)")
    expect(page.get_by_label("minutes", exact=True)).to_have_value("")  # a custom field: not mapped
    expect(page.get_by_label("Default value 1: field")).to_have_value("priority")  # the stored one
    expect(page.get_by_label("Default value 1: value")).to_have_value("low")
    expect(page.get_by_label("Default value 4: value")).to_have_value("")  # three empty rows to add to
    title.select_option("sender")
    page.get_by_label("Default value 1: value").fill("")  # emptied: removed
    page.get_by_label("Default value 2: field").select_option("status")
    page.get_by_label("Default value 2: value").fill("open")
    page.get_by_label("Default value 3: field").select_option("minutes")
    page.get_by_label("Default value 3: value").fill("15")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{drop.url}/accounts?done=saved&account=helpdesk")
    account = _stored(drop, "helpdesk")
    assert account is not None and account.field_mapping == {"title": "sender"}
    assert account.default_values == {"status": "open", "minutes": 15}
    assert account.quiet_on_create is True  # a setting the form does not show is kept
    number = handle(drop.sessions, mail(account="helpdesk", sender="alice@customer.example")).item.number
    created = item(drop.sessions, number)
    assert (created.title, created.status, created.fields) == ("alice@customer.example", "open", {"minutes": 15})
    tab.open("/accounts/helpdesk/edit")
    expect(page.get_by_label("title", exact=True)).to_have_value("sender")
    expect(page.get_by_label("Default value 2: value")).to_have_value("15")
    assert tab.violations == []


def test_a_default_value_the_catalog_refuses_is_shown_beside_the_table_and_nothing_is_stored(
        tab: Tab, drop: Console) -> None:
    tab.sign_in(ADMIN)
    tab.open("/accounts/helpdesk/edit")
    page = tab.page
    page.get_by_label("description", exact=True).select_option("reply")
    page.get_by_label("Default value 2: field").select_option("minutes")
    page.get_by_label("Default value 2: value").fill("soon")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error-default_values")).to_contain_text("default_values.minutes: 'soon' is not a number")
    expect(page.get_by_label("Default value 2: value")).to_have_value("soon")  # what was typed is kept
    expect(page.get_by_label("description", exact=True)).to_have_value("reply")
    account = _stored(drop, "helpdesk")
    assert account is not None and account.default_values == {"priority": "low"} and account.field_mapping == {}


def test_a_stored_mapping_of_an_undeclared_field_is_its_own_row_refused_until_it_is_unmapped(
        tab: Tab, drop: Console) -> None:
    with transaction(drop.sessions) as session:  # stored before its custom field was renamed, say
        session.scalars(select(Account).where(Account.name == "helpdesk")).one().field_mapping = {"ticket": "subject"}
    tab.sign_in(ADMIN)
    tab.open("/accounts/helpdesk/edit")
    page = tab.page
    stale = page.get_by_label("ticket (not declared)")
    expect(stale).to_have_value("subject")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error-field_mapping")).to_contain_text("field_mapping: 'ticket' is no item field")
    page.get_by_label("ticket (not declared)").select_option("")  # "(not mapped)": removed
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{drop.url}/accounts?done=saved&account=helpdesk")
    account = _stored(drop, "helpdesk")
    assert account is not None and account.field_mapping == {} and account.default_values == {"priority": "low"}
