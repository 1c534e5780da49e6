"""Import progress from the fetcher's checkpoints in both databases: done, to go, rate and time left,
as ``accounts show``, ``accounts list`` (text and JSON), the app layer's account views and
``accounts show --watch`` (a bar on a terminal, plain lines in a pipe) give them."""

from __future__ import annotations

import json
import os
import pty
import select as selectors
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.app.accounts import list_accounts, view
from services.app.actors import OPERATOR
from shared.accounts.progress import account_progress
from shared.db.models import MailboxCursor
from tests.support.accountcli import AccountsCli
from tests.support.fetching import apply_account, imap_account
from tests.support.waiting import wait_for

STARTED = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def cli(database_url: str, secret_key: str) -> AccountsCli:
    return AccountsCli(database_url, secret_key)


@pytest.fixture
def account(sessions: Any, secret_box: Any, mail_user: Any) -> str:
    apply_account(sessions, secret_box, **imap_account(mail_user))
    return "support"


def checkpoint(sessions: Any, folder: str = "INBOX", *, imported: int, base: int, backlog: int,
               after: timedelta | None, started: datetime | None = STARTED) -> None:
    """The cursor row as the fetcher leaves it after a checkpoint ``after`` the run's start."""
    with sessions.begin() as session:
        row = session.get(MailboxCursor, ("support", folder)) or MailboxCursor(account="support", folder=folder)
        row.uidvalidity, row.last_uid, row.imported, row.backlog = 7, imported, imported, backlog
        row.run_started_at, row.run_base = started, base
        row.updated_at = (started or STARTED) + (after or timedelta())
        session.add(row)


def test_rate_and_time_left_come_from_the_runs_start_and_its_last_checkpoint(sessions: Any, account: str) -> None:
    """1200 mails of this run in 10 minutes with 3600 to go: 120 a minute, 30 minutes left, 25%."""
    checkpoint(sessions, imported=1300, base=100, backlog=3600, after=timedelta(minutes=10))
    with sessions() as session:
        facts = account_progress(session)["support"].as_dict()
    assert facts == {"importing": True, "done": 1200, "to_go": 3600, "percent": 25.0, "rate_per_minute": 120.0,
                     "seconds_left": 1800, "started_at": "2026-12-03T09:00:00+00:00",
                     "updated_at": "2026-12-03T09:10:00+00:00"}


def test_two_folders_importing_side_by_side_add_their_rates(sessions: Any, account: str) -> None:
    """60/min in one folder and 30/min in the other: 90/min for the account over both backlogs."""
    checkpoint(sessions, "INBOX", imported=600, base=0, backlog=900, after=timedelta(minutes=10))
    checkpoint(sessions, "Support", imported=150, base=0, backlog=0, after=timedelta(minutes=5))
    checkpoint(sessions, "Sales", imported=150, base=0, backlog=450, after=timedelta(minutes=5))
    with sessions() as session:
        facts = account_progress(session)["support"].as_dict()
    assert (facts["done"], facts["to_go"], facts["rate_per_minute"]) == (900, 1350, 90.0)
    assert facts["seconds_left"] == 900  # 1350 mails at 1.5 a second


def test_before_the_first_batch_of_a_run_the_rate_and_time_left_are_unknown(
        sessions: Any, account: str, cli: AccountsCli) -> None:
    """A pass has counted what is to go but checkpointed nothing of it: no rate, no guess at the time."""
    checkpoint(sessions, imported=40, base=40, backlog=500, after=timedelta(seconds=3))
    with sessions() as session:
        facts = account_progress(session)["support"].as_dict()
    assert (facts["done"], facts["rate_per_minute"], facts["seconds_left"]) == (0, None, None)
    assert "import: 500 to go, 0 done (0.0%), ?/min, ? left" in cli("show", "support").output


def test_a_finished_run_is_up_to_date_with_nothing_left(sessions: Any, account: str) -> None:
    checkpoint(sessions, imported=12, base=0, backlog=0, after=timedelta(seconds=4))
    with sessions() as session:
        facts = account_progress(session)["support"].as_dict()
    assert (facts["importing"], facts["done"], facts["seconds_left"], facts["percent"]) == (False, 12, 0, 100.0)


def test_accounts_show_and_list_print_the_progress_and_their_json_carries_its_fields(
        sessions: Any, account: str, cli: AccountsCli) -> None:
    checkpoint(sessions, imported=1300, base=100, backlog=3600, after=timedelta(minutes=10))
    shown = cli("show", "support").output
    assert "  import: 3600 to go, 1200 done (25.0%), 120/min, 30m00s left" in shown
    assert "INBOX: 1300 imported, last UID 1300 (UIDVALIDITY 7), 3600 to go, 1200 done" in shown
    report = json.loads(cli("show", "support", "--json").output)
    assert report["progress"]["seconds_left"] == 1800 and report["folders"][0]["progress"]["done"] == 1200
    row = next(line for line in cli("list").output.splitlines() if line.startswith("support"))
    assert "3600 (25.0%, 120/min, 30m00s left)" in row
    [listed] = json.loads(cli("list", "--json").output)
    assert listed["backlog"] == 3600 and listed["progress"]["rate_per_minute"] == 120.0


def test_the_app_layers_account_views_carry_the_progress_for_the_console(sessions: Any, account: str) -> None:
    """list_accounts (the console's accounts page) and view give the same fields as the overview."""
    with sessions() as session:
        assert [a["progress"] for a in list_accounts(session, OPERATOR)] == [None]  # no checkpoint yet
    checkpoint(sessions, imported=1300, base=100, backlog=3600, after=timedelta(minutes=10))
    with sessions() as session:
        [listed] = list_accounts(session, OPERATOR)
        one = view(session, OPERATOR, "support")
    assert listed["progress"] == one["progress"] and listed["progress"]["seconds_left"] == 1800


def test_watch_in_a_pipe_prints_a_line_when_the_numbers_move_and_ends_when_the_import_does(
        sessions: Any, account: str, cli: AccountsCli) -> None:
    checkpoint(sessions, imported=12, base=0, backlog=0, after=timedelta(seconds=4))
    out = cli("show", "support", "--watch", "--interval", "0.05").output
    assert out == "import done: 12 mail(s) in this run\n" and "\r" not in out and "\x1b" not in out


def test_watch_on_a_terminal_redraws_a_progress_bar_until_the_import_ends(
        sessions: Any, account: str, database_url: str, secret_key: str) -> None:
    """The real command under a pseudo-terminal while the checkpoints move: the bar redrawn in place."""
    checkpoint(sessions, imported=100, base=0, backlog=300, after=timedelta(minutes=1))
    controller, terminal = pty.openpty()
    env = os.environ | {"DATABASE_URL": database_url, "POSTROOM_SECRET_KEYS": secret_key}
    process = subprocess.Popen([sys.executable, "-m", "services.cli", "accounts", "show", "support", "--watch",
                                "--interval", "0.1"], stdout=terminal, stderr=subprocess.PIPE, env=env)
    os.close(terminal)
    seen = bytearray()
    reader = threading.Thread(target=_read_all, args=(controller, seen), daemon=True)
    reader.start()
    try:
        wait_for(lambda: b"100/400" in seen, timeout=30, what="the first bar")
        checkpoint(sessions, imported=400, base=0, backlog=0, after=timedelta(minutes=4))
        assert process.wait(timeout=30) == 0, process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(timeout=5)
    text = seen.decode()
    assert "\r[#######.......................]  25.0%  100/400  100/min  3m00s left" in text
    assert "\r[##############################] 100.0%  400/400  100/min  0s left" in text
    assert text.rstrip().endswith("import done: 400 mail(s) in this run")


def _read_all(fd: int, into: bytearray) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = selectors.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the terminal's other end closed: the command ended
            return
        if not chunk:
            return
        into.extend(chunk)
