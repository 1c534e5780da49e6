"""Mail the rules hold back, through the real itemwriter on SQLite and PostgreSQL, and ``postroom
held``: each held mail is one row with its rule and reason, however often it is delivered; what the
CLI shows, previews (changing nothing), releases and discards."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.cli.main import cli
from services.itemwriter.handlers import make_handler
from services.parser.handlers import normalize
from services.parser.limits import Limits
from shared.broker.kombu_broker import KombuBroker
from shared.broker.topology import Topology
from shared.contracts import Envelope, MailFetched
from shared.db.models import HeldMail, Item, PendingMessage
from shared.store import FilesystemBlobStore
from tests.support.items import TEST_SECRET, TOKENS, add_account, mail

RAW = (b"From: Alice <alice@customer.example>\r\nTo: support@ours.example\r\nSubject: Printer on fire\r\n"
       b"Message-ID: <held-cli@customer.example>\r\n\r\nIt is on fire.\r\n")


def count(sessions: sessionmaker[Session], model: Any) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_our_own_mail_coming_back_is_held_once_however_often_it_is_delivered(
        sessions: sessionmaker[Session]) -> None:
    add_account(sessions)
    handler = make_handler(sessions)
    own = mail(kind="own-loop", subject="Re: [#1] Printer on fire")
    assert handler(own) == [] and handler(own) == []
    with sessions() as session:
        [row] = session.scalars(select(HeldMail)).all()
    assert (row.rule, row.state, row.times_held, row.subject) == ("own-mail", "held", 1, "Re: [#1] Printer on fire")
    assert row.raw_key == own.payload.raw.key and row.source_id == own.payload.source_id
    assert count(sessions, Item) == 0


def test_a_batch_holds_its_held_mail_and_writes_the_others(sessions: sessionmaker[Session]) -> None:
    add_account(sessions)
    add_account(sessions, "old", active=False)
    results = make_handler(sessions).handle_batch([mail(), mail(account="old"), mail(kind="own-loop")])
    assert [len(r) for r in results] == [1, 0, 0]  # type: ignore[arg-type]
    with sessions() as session:
        assert sorted(session.scalars(select(HeldMail.rule))) == ["inactive-account", "own-mail"]
    assert count(sessions, Item) == 1


@pytest.fixture
def held_cli(database_url: str, sessions: sessionmaker[Session], tmp_path: Path, amqp_url: str, namespace: str):  # type: ignore[no-untyped-def]
    broker = KombuBroker(amqp_url, Topology(namespace=namespace))
    broker.declare()
    env = {"DATABASE_URL": database_url, "POSTROOM_VAR_DIR": str(tmp_path / "var"), "POSTROOM_TOKEN_SECRET": TEST_SECRET,
           "POSTROOM_STORE_DIR": str(tmp_path / "store"), "AMQP_URL": amqp_url, "POSTROOM_BROKER_NAMESPACE": namespace}
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(cli, ["held", *args], env=env, catch_exceptions=False)
        assert (result.exit_code == 0) is ok, result.output
        return result.output

    yield invoke, FilesystemBlobStore(tmp_path / "store")
    broker.close()


def test_the_held_commands_list_show_preview_release_and_discard(sessions: sessionmaker[Session], held_cli) -> None:  # type: ignore[no-untyped-def]
    invoke, store = held_cli
    add_account(sessions, active=False)
    fetched = MailFetched(account="support", source="stdin", source_id="stdin:held-cli", raw=store.put(RAW),
                          received_at=datetime.now(UTC))
    assert make_handler(sessions)(Envelope.first(normalize(RAW, fetched, None, TOKENS, Limits()))) == []
    with sessions() as session:
        held_id = session.scalars(select(HeldMail.id)).one()

    listed = invoke("list")
    assert "inactive-account" in listed and "account support is inactive" in listed and "1 of 1 held" in listed
    assert "no held mail" in invoke("list", "--rule", "own-mail")
    assert "--rule" in invoke("list", "--rule", "nope", ok=False)
    shown = invoke("show", str(held_id))
    assert "Subject: Printer on fire" in shown and "rule:" in shown and "alice@customer.example" in shown
    assert "would be held back again by the rule inactive-account" in invoke("preview", str(held_id))
    aside = invoke("preview", str(held_id), "--override")
    assert "set aside: would create incident #1 'Printer on fire'" in aside and "decision: CREATE" in aside
    assert count(sessions, Item) == 0 and count(sessions, PendingMessage) == 0, "a preview writes nothing"

    assert "released" in invoke("release", str(held_id), "--override", "--yes")
    with sessions() as session:
        row = session.get_one(HeldMail, held_id)
        assert (row.state, row.override, row.released_by) == ("released", True, "operator")
        [pending] = session.scalars(select(PendingMessage)).all()
        assert pending.routing_key == "mail.fetched.v1" and pending.published_at is not None
    assert "was released already" in invoke("release", str(held_id), "--yes", ok=False)
    assert "1 of 1 released" in invoke("list", "--released")

    assert f"discarded {held_id}" in invoke("discard", str(held_id), "--yes")
    assert count(sessions, HeldMail) == 0 and store.exists(fetched.raw.key)
    assert "no held mail" in invoke("show", str(held_id), ok=False)
