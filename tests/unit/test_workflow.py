"""Where a new item starts and where a reply takes an existing one."""

from __future__ import annotations

from services.itemwriter.catalog import Catalog, Step
from services.itemwriter.workflow import ReplyActions, archived, initial, on_reply

CATALOG = Catalog(
    statuses=("new", "open", "waiting", "closed"), closed=frozenset({"closed"}),
    steps={"triage": Step("triage", "new", None), "in-progress": Step("in-progress", "open", None),
           "waiting-for-customer": Step("waiting-for-customer", "waiting", "in-progress"),
           "done": Step("done", "closed", "in-progress")},
    fields=frozenset())


def test_a_new_item_starts_in_the_first_step_with_its_status() -> None:
    placed = initial({}, CATALOG)
    assert (placed.status, placed.step) == ("new", "triage")


def test_default_values_for_new_items_choose_the_step_and_status() -> None:
    placed = initial({"step": "in-progress", "status": "waiting"}, CATALOG)
    assert (placed.status, placed.step) == ("waiting", "in-progress")


def test_a_default_naming_no_known_status_is_ignored_with_a_note() -> None:
    placed = initial({"status": "urgent"}, CATALOG)
    assert placed.status == "new" and any("urgent" in n for n in placed.notes)


def test_a_reply_moves_the_item_to_the_step_its_current_step_names() -> None:
    placed = on_reply("waiting", "waiting-for-customer", ReplyActions(None, True, True), CATALOG)
    assert (placed.status, placed.step) == ("open", "in-progress")


def test_a_reply_leaves_the_step_when_the_account_does_not_move_steps() -> None:
    placed = on_reply("waiting", "waiting-for-customer", ReplyActions(None, False, True), CATALOG)
    assert (placed.status, placed.step) == ("waiting", "waiting-for-customer")


def test_the_accounts_reply_status_is_set_on_a_reply() -> None:
    placed = on_reply("new", "triage", ReplyActions("open", True, True), CATALOG)
    assert (placed.status, placed.step) == ("open", "triage")


def test_a_reply_reopens_a_closed_item_when_the_account_reopens() -> None:
    placed = on_reply("closed", "done", ReplyActions(None, False, True), CATALOG)
    assert placed.reopened and (placed.status, placed.step) == ("open", "in-progress")


def test_a_reply_leaves_a_closed_item_closed_when_the_account_does_not_reopen() -> None:
    placed = on_reply("closed", "done", ReplyActions("open", True, False), CATALOG)
    assert not placed.reopened and (placed.status, placed.step) == ("closed", "done")


def test_an_item_from_archived_mail_is_closed_in_the_step_of_its_closed_status() -> None:
    """Mail there before the first sync makes a closed item: the first closed status and its step."""
    placed = archived(initial({}, CATALOG), CATALOG)
    assert (placed.status, placed.step) == ("closed", "done")
    assert any("archive import" in n for n in placed.notes)


def test_an_archived_item_stays_where_it_started_when_no_status_is_closed() -> None:
    """A catalog without a closed status keeps the item's start, and the note says why."""
    catalog = Catalog(statuses=CATALOG.statuses, closed=frozenset(), steps=CATALOG.steps, fields=frozenset())
    placed = archived(initial({}, catalog), catalog)
    assert (placed.status, placed.step) == ("new", "triage")
    assert any("no closed status" in n for n in placed.notes)
