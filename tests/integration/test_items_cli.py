"""``postroom config apply``, ``items show`` and ``simulate`` against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from services.cli.main import cli
from shared.db.models import Item, ItemMail
from tests.support.items import TEST_SECRET, TRUSTED, handle, mail

CONFIG = f"""
projects:
  - {{name: Support, notify: [lead@ours.example]}}
users:
  - {{email: bot@ours.example, name: Mail bot}}
customers:
  - name: ACME
    domains: [acme.example]
    contacts: [{{email: alice@acme.example, name: Alice}}]
custom_fields:
  - {{name: priority, kind: choice, choices: [low, high]}}
accounts:
  - name: support
    kind: stdin
    address: support@ours.example
    project: Support
    creator: bot@ours.example
    default_values: {{priority: high}}
    trusted_authserv_ids: [{TRUSTED}]
    add_sender_to_notify: true
"""


@pytest.fixture
def run(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {"DATABASE_URL": database_url, "POSTROOM_VAR_DIR": str(tmp_path / "var"),
           "POSTROOM_TOKEN_SECRET": TEST_SECRET}

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(cli, list(args), env=env, catch_exceptions=False)
        assert (result.exit_code == 0) is ok, result.output
        return result.output

    return invoke


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_config_apply_declares_the_catalog_and_accounts_once(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, "postroom.yaml", CONFIG)
    first = run("config", "apply", "-f", path)
    assert "+ project Support" in first and "+ contact alice@acme.example" in first and "+ account support" in first
    assert run("config", "apply", "-f", path).strip() == "no changes"


def test_config_apply_refuses_an_account_naming_an_unknown_creator_and_applies_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, "bad.yaml", CONFIG.replace("creator: bot@ours.example", "creator: nobody@ours.example"))
    out = run("config", "apply", "-f", path, ok=False)
    assert "creator 'nobody@ours.example' is not a declared user: declare it under users:" in out
    assert "+ project Support" in run("config", "apply", "-f", _write(tmp_path, "good.yaml", CONFIG))


def test_items_show_displays_the_signal_the_follow_up_link_and_the_notification_list(run, sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("config", "apply", "-f", _write(tmp_path, "postroom.yaml", CONFIG))
    handle(sessions, mail(sender="alice@acme.example"))
    handle(sessions, mail(sender="mallory@evil.example", subject="Re: [#1]"))
    shown = json.loads(run("items", "show", "2", "--json"))
    assert shown["mails"][0]["matched_by"] == "new: new item, linked as a possible follow-up of #1"
    assert shown["links"] == [{"kind": "possible-follow-up", "type": "incident", "number": 1, "title": "Printer on fire",
                               "reason": "new item, linked as a possible follow-up of #1"}]
    assert [n["address"] for n in shown["notify"]] == ["lead@ours.example", "mallory@evil.example"]
    text = run("items", "show", "1")
    assert "customer: ACME" in text and "has possible-follow-up: incident #2" in text
    assert "priority: high" in text and "creator: bot@ours.example" in text


def test_simulate_explains_the_outcome_and_writes_nothing(run, sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("config", "apply", "-f", _write(tmp_path, "postroom.yaml", CONFIG))
    handle(sessions, mail(sender="alice@acme.example"))
    forged = _write(tmp_path, "forged.eml", (
        f"Authentication-Results: {TRUSTED}; spf=fail; dkim=none; dmarc=fail header.from=acme.example\r\n"
        "From: Alice <alice@acme.example>\r\nTo: support@ours.example\r\nSubject: Re: [#1] the data please\r\n"
        "Message-ID: <forged@evil.example>\r\n\r\nSend it to me.\r\n"))
    out = run("simulate", forged, "--account", "support")
    assert "decision: CREATE incident #2" in out
    assert "UNVERIFIED: dmarc=fail" in out
    assert "withheld auto-reply to alice@acme.example: the sender is unverified" in out
    assert "default priority := 'high'" in out
    assert f"the account trusts: Authentication-Results from {TRUSTED}" in out
    result = json.loads(run("simulate", forged, "--account", "support", "--json"))
    assert result["decision"]["considered"] and result["change"] == "created"
    with sessions() as session:
        assert session.scalar(select(func.count(Item.id))) == 1
        assert session.scalar(select(func.count(ItemMail.id))) == 1


def test_simulate_shows_an_append_and_the_workflow_change(run, sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("config", "apply", "-f", _write(tmp_path, "postroom.yaml", CONFIG))
    handle(sessions, mail(sender="alice@acme.example"))
    reply = _write(tmp_path, "reply.eml", (
        "From: alice@acme.example\r\nSubject: Re: [#1] Printer\r\nMessage-ID: <r@acme.example>\r\n\r\nStill.\r\n"))
    out = run("simulate", reply, "--account", "support")
    assert "decision: APPEND to incident #1" in out
    assert "alice@acme.example is the item's contact" in out or "on the item's notification list" in out
    assert "notifications: lead@ours.example" in out


def test_simulate_says_an_open_breaker_or_a_full_cap_stops_the_auto_reply_now(run, sessions, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                              monkeypatch) -> None:
    """What the governor would do now, not only what the mail itself allows."""
    from datetime import timedelta

    from shared.db.engine import transaction
    from shared.db.models import LoopBreaker, OutboundMail, utcnow

    run("config", "apply", "-f", _write(tmp_path, "postroom.yaml", CONFIG))
    new = _write(tmp_path, "new.eml", "From: Bob <bob@acme.example>\r\nSubject: Help\r\n"
                                      "Message-ID: <new@acme.example>\r\n\r\nPlease.\r\n")
    assert "auto-reply: to bob@acme.example" in run("simulate", new, "--account", "support")

    with transaction(sessions) as s:
        s.add(LoopBreaker(account="support", scope="recipient", key="bob@acme.example", opened_at=utcnow(),
                          open_until=utcnow() + timedelta(minutes=30), reason="3 cap hits", trips=1))
    out = run("simulate", new, "--account", "support")
    assert "auto-reply: none (loop_breaker: loop breaker open for bob@acme.example until" in out
    assert "notifications: lead@ours.example (created)" in out  # the breaker is bob's, not the lead's
    result = json.loads(run("simulate", new, "--account", "support", "--json"))
    assert [(g["kind"], g["to"], g["rule"]) for g in result["governor"]] == [
        ("auto-reply", "bob@acme.example", "loop_breaker"), ("created", "lead@ours.example", "")]

    with transaction(sessions) as s:
        s.query(LoopBreaker).delete()
        s.add(OutboundMail(event_id="earlier", recipient="bob@acme.example", kind="auto-reply", account="support",
                           message_id="<earlier@ours.example>", status="sent", counted=True))
    monkeypatch.setenv("POSTROOM_CAP_PER_RECIPIENT", "1/10m")
    out = run("simulate", new, "--account", "support")
    assert "auto-reply: none (rate_limited: cap: bob@acme.example already got 1 in 10 min)" in out
    with sessions() as session:
        assert session.query(LoopBreaker).count() == 0 and session.query(OutboundMail).count() == 1


def test_templates_preview_renders_against_the_sample_or_an_item_and_names_a_broken_templates_line(  # type: ignore[no-untyped-def]
        run, sessions, tmp_path: Path) -> None:
    run("config", "apply", "-f", _write(tmp_path, "postroom.yaml", CONFIG))
    out = run("templates", "preview", "created", "--text", "New: {{ item.title }}")
    assert "against: sample" in out and "New: Printer jammed" in out and "(none: a plain-text mail)" in out

    handle(sessions, mail(sender="alice@acme.example", subject="Scanner", text="Scan.\n> old", reply_text="Scan."))
    html = _write(tmp_path, "created.html", "<p>{{ mail.reply_text }}</p>")
    out = run("templates", "preview", "created", "--html", f"@{html}", "--item", "1", "--account", "support")
    assert "against: mail" in out and "(incident #1)" in out and "<p>Scan.</p>" in out
    assert "-- text --\nScan.\n" in out  # derived from the HTML

    broken = run("templates", "preview", "updated", "--text", "one\n{% for x in changes %}", ok=False)
    assert "updated.text, line 2: TemplateSyntaxError" in broken


def test_a_refused_config_file_does_not_echo_the_password_it_holds(tmp_path, database_url, monkeypatch) -> None:
    """A typo next to a secret: the error names the field, never the values."""
    from click.testing import CliRunner

    from services.cli.main import cli

    monkeypatch.setenv("DATABASE_URL", database_url)
    path = tmp_path / "postroom.yaml"
    path.write_text("accounts:\n  - name: x\n    kind: imap\n    address: a@example.com\n    project: P\n"
                    "    password: hunter2-secret\n    port: not-a-number\n")
    for command in (["config", "apply", "-f", str(path)], ["accounts", "apply", "-f", str(path)]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code != 0
        assert "hunter2-secret" not in result.output and "port" in result.output
