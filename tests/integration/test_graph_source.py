"""The Graph mail source against a local HTTP fake of the Graph endpoints: delta paging with a
stored delta link, MIME content, the after-fetch action, 401 refresh, 429 back-off (Retry-After in
seconds or as a date, timed at the fake), error JSON; the folder tree with paths, and a folder
setting given as a path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from services.fetcher.apicursors import ApiCursors
from services.fetcher.apisync import Batch
from services.fetcher.graph import GraphConfig, GraphMailSource
from shared.mailboxes.graph_client import GraphClient, GraphError
from shared.mailboxes.graph_folders import UnknownFolder
from shared.mailboxes.ratelimit import RateLimited
from shared.db.engine import make_engine, make_sessionmaker
from shared.db.migrate import upgrade
from tests.support.fake_graph import FakeMailbox, serve_graph


class Tokens:
    """Our token provider's shape: (force) -> token; counts forced refreshes."""

    def __init__(self, mailbox: FakeMailbox, current: str = "tok-1") -> None:
        self.mailbox, self.current, self.forced = mailbox, current, 0
        mailbox.valid_tokens.add(current)

    def __call__(self, force: bool) -> str:
        if force:
            self.forced += 1
            self.current = f"tok-{self.forced + 1}"
            self.mailbox.valid_tokens.add(self.current)
        return self.current


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[tuple[FakeMailbox, str, Any]]:
    mailbox = FakeMailbox()
    server, url = serve_graph(mailbox)
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    upgrade(engine)
    yield mailbox, url, make_sessionmaker(engine)
    server.shutdown()
    engine.dispose()


def source_for(graph: tuple[FakeMailbox, str, Any], tokens: Tokens | None = None, **config: Any) -> GraphMailSource:
    mailbox, url, sessions = graph
    config.setdefault("existing_mail", "import")  # these tests mean the mail they deliver first as new mail
    config = {k: v for k, v in config.items() if v is not None}  # None: the product's default
    cfg = GraphConfig(mailbox="support@contoso.example", base_url=url, **config)
    waits: list[float] = []
    source = GraphMailSource(GraphClient(tokens or Tokens(mailbox), url), cfg, ApiCursors(sessions, "support"),
                             sleep=lambda s: waits.append(s) or False)
    source.waits = waits  # type: ignore[attr-defined]
    return source


def drain(source: GraphMailSource) -> list[str]:
    got = []
    for batch in source.batches():
        ids = [sid for sid, _ in batch.mails]
        got.extend(ids)
        source.release(batch, ids, complete=True)
    return got


def test_every_mail_of_the_folder_is_fetched_once_across_pages_and_marked_read_after_release(graph) -> None:
    mailbox = graph[0]
    for n in range(5):
        mailbox.deliver(f"m{n}", f"Subject: {n}\r\n\r\nbody {n}\r\n".encode())
    source = source_for(graph)
    batches: list[Batch] = []
    for batch in source.batches():
        batches.append(batch)
        assert not any(mailbox.messages[sid]["isRead"] for sid, _ in batch.mails)  # nothing released early
        source.release(batch, [sid for sid, _ in batch.mails], complete=True)
    assert [sid for b in batches for sid, _ in b.mails] == ["m0", "m1", "m2", "m3", "m4"]
    assert batches[0].mails[0][1].startswith(b"Subject: 0")
    assert all(m["isRead"] for m in mailbox.messages.values())
    assert drain(source_for(graph)) == []  # our own changes do not bring them back


def test_a_restart_resumes_from_the_stored_delta_link_and_takes_only_new_mail(graph) -> None:
    mailbox = graph[0]
    mailbox.deliver("old", b"Subject: old\r\n\r\nx\r\n")
    assert drain(source_for(graph)) == ["old"]
    mailbox.deliver("new", b"Subject: new\r\n\r\ny\r\n")
    fresh = source_for(graph)  # a new process: only the database remembers
    assert drain(fresh) == ["new"]
    first_get = next(p for m, p in mailbox.log[::-1] if "delta" in p and m == "GET")
    assert "from=" in first_get


def test_move_and_delete_are_applied_per_the_account_choice(graph) -> None:
    mailbox = graph[0]
    mailbox.deliver("a", b"Subject: a\r\n\r\n")
    drain(source_for(graph, after_fetch="move", move_to="archive"))
    assert mailbox.messages["a"]["folder"] == "archive"
    mailbox.deliver("b", b"Subject: b\r\n\r\n")
    drain(source_for(graph, after_fetch="delete"))
    assert "b" not in mailbox.messages
    assert ("DELETE", "/v1.0/users/support%40contoso.example/messages/b") in mailbox.log


def test_an_unreleased_batch_comes_again_and_its_cursor_is_not_advanced(graph) -> None:
    mailbox = graph[0]
    mailbox.deliver("a", b"Subject: a\r\n\r\n")
    source = source_for(graph)
    next(iter(source.batches()))  # fetched, never released (the publish failed)
    assert not mailbox.messages["a"]["isRead"]
    assert drain(source_for(graph)) == ["a"]


def test_a_401_gets_one_fresh_token_and_the_request_succeeds(graph) -> None:
    mailbox = graph[0]
    mailbox.deliver("a", b"Subject: a\r\n\r\n")
    tokens = Tokens(mailbox)
    mailbox.valid_tokens.clear()  # the token was revoked server-side
    assert drain(source_for(graph, tokens)) == ["a"]
    assert tokens.forced == 1


def test_throttling_backs_off_for_the_retry_after_and_resumes(graph) -> None:
    mailbox = graph[0]
    mailbox.deliver("a", b"Subject: a\r\n\r\n")
    mailbox.faults.append((429, {"Retry-After": "7"}, {"error": {"code": "TooManyRequests"}}))
    source = source_for(graph)
    assert drain(source) == ["a"]
    assert source.waits == [7.0]  # type: ignore[attr-defined]


def test_throttling_that_persists_stops_the_sync_with_the_wait_it_asked_for(graph) -> None:
    mailbox = graph[0]
    mailbox.deliver("a", b"Subject: a\r\n\r\n")
    for _ in range(3):
        mailbox.faults.append((429, {"Retry-After": "5"}, {"error": {"code": "TooManyRequests"}}))
    with pytest.raises(RateLimited) as caught:
        drain(source_for(graph))
    assert caught.value.retry_after == 5.0
    assert drain(source_for(graph)) == ["a"]  # resumed later


def test_a_graph_error_answer_is_raised_with_its_code(graph) -> None:
    mailbox = graph[0]
    mailbox.faults.append((403, {}, {"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}}))
    with pytest.raises(GraphError, match="ErrorAccessDenied"):
        drain(source_for(graph))


def test_existing_mail_can_be_skipped_on_the_first_round(graph) -> None:
    mailbox = graph[0]
    mailbox.deliver("old", b"Subject: old\r\n\r\n")
    assert drain(source_for(graph, existing_mail="skip")) == []
    mailbox.deliver("new", b"Subject: new\r\n\r\n")
    assert drain(source_for(graph, existing_mail="skip")) == ["new"]
    assert json.loads(ApiCursors(graph[2], "support").get("inbox"))["link"]


def real_waits(graph: tuple[FakeMailbox, str, Any], **config: Any) -> GraphMailSource:
    """A source that really waits (the service's ``stop.wait``), for timings seen at the fake."""
    mailbox, url, sessions = graph
    cfg = GraphConfig(mailbox="support@contoso.example", base_url=url, **config)
    return GraphMailSource(GraphClient(Tokens(mailbox), url), cfg, ApiCursors(sessions, "support"),
                           sleep=threading.Event().wait)


def test_a_429_with_retry_after_2_holds_the_next_request_back_2_seconds_then_the_sync_goes_on(graph) -> None:
    """Timestamps at the fake: one 429, and the next request at least 2 s after it (no hammering)."""
    mailbox = graph[0]
    mailbox.deliver("a", b"Subject: a\r\n\r\n")
    mailbox.throttle_for(2.0)
    assert drain(real_waits(graph)) == ["a"]
    assert mailbox.statuses.count(429) == 1
    throttled = mailbox.statuses.index(429)
    assert mailbox.times[throttled + 1] - mailbox.times[throttled] >= 2.0
    assert mailbox.statuses[throttled + 1] == 200


def test_retry_after_as_an_http_date_is_honoured_too(graph) -> None:
    mailbox = graph[0]
    mailbox.deliver("a", b"Subject: a\r\n\r\n")
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    mailbox.faults.append((503, {"Retry-After": when}, {"error": {"code": "ServiceUnavailable"}}))
    source = source_for(graph)
    assert drain(source) == ["a"]
    [waited] = source.waits  # type: ignore[attr-defined]
    assert 1.0 <= waited <= 3.0


def tree(mailbox: FakeMailbox) -> dict[str, str]:
    """Inbox/Support/Tier 2, Inbox/Sales, and a third top-level folder (two pages of two)."""
    support = mailbox.add_folder("Support", parent="inbox")
    return {"support": support, "tier2": mailbox.add_folder("Tier 2", parent=support),
            "sales": mailbox.add_folder("Sales", parent="inbox"), "projects": mailbox.add_folder("Projects")}


def test_the_folders_come_by_id_with_their_path_subfolders_and_every_page_included(graph) -> None:
    mailbox = graph[0]
    ids = tree(mailbox)
    found = {f.path: f.id for f in source_for(graph).folders()}
    assert found == {"Inbox": "inbox", "Inbox/Support": ids["support"], "Inbox/Support/Tier 2": ids["tier2"],
                     "Inbox/Sales": ids["sales"], "Archive": "archive", "Projects": ids["projects"]}
    assert any("$skip=2" in path for _, path in mailbox.log)  # the top level's second page was asked for


def test_a_folder_set_as_a_path_is_read_by_its_id_and_the_id_is_kept_in_the_cursor(graph) -> None:
    mailbox = graph[0]
    ids = tree(mailbox)
    mailbox.deliver("in-inbox", b"Subject: inbox\r\n\r\n")
    mailbox.deliver("in-tier2", b"Subject: tier 2\r\n\r\n", folder=ids["tier2"])
    assert drain(source_for(graph, folder="inbox/support/Tier 2")) == ["in-tier2"]
    assert json.loads(ApiCursors(graph[2], "support").get("inbox/support/Tier 2"))["folder_id"] == ids["tier2"]
    asked = len(mailbox.log)
    mailbox.deliver("later", b"Subject: later\r\n\r\n", folder=ids["tier2"])
    assert drain(source_for(graph, folder="inbox/support/Tier 2")) == ["later"]
    assert not any("childFolders" in path or "/mailFolders?" in path for _, path in mailbox.log[asked:])


def test_move_to_given_as_a_path_moves_into_that_folder(graph) -> None:
    mailbox = graph[0]
    ids = tree(mailbox)
    mailbox.deliver("a", b"Subject: a\r\n\r\n")
    drain(source_for(graph, after_fetch="move", move_to="Inbox/Sales"))
    assert mailbox.messages["a"]["folder"] == ids["sales"]


def test_a_folder_that_is_not_there_is_refused_with_how_to_list_them(graph) -> None:
    tree(graph[0])
    with pytest.raises(UnknownFolder, match="postroom accounts folders"):
        drain(source_for(graph, folder="Inbox/Nope"))


def test_mail_there_at_the_first_sync_is_archived_by_default_and_left_as_it_was(graph) -> None:
    """existing_mail unset (archive): the first round is an archive batch and nothing is marked, moved
    or deleted; mail delivered after it is released as the account says."""
    mailbox = graph[0]
    mailbox.deliver("old", b"Subject: old\r\n\r\nx\r\n")
    source = source_for(graph, existing_mail=None, after_fetch="delete")
    batches = list(_released(source))
    assert [(b.archive, [sid for sid, _ in b.mails]) for b in batches] == [(True, ["old"])]
    assert "old" in mailbox.messages and not mailbox.messages["old"]["isRead"]
    assert not any(method in ("DELETE", "PATCH", "POST") for method, _ in mailbox.log)
    mailbox.deliver("new", b"Subject: new\r\n\r\ny\r\n")
    later = list(_released(source_for(graph, existing_mail=None, after_fetch="delete")))
    assert [(b.archive, [sid for sid, _ in b.mails]) for b in later if b.mails] == [(False, ["new"])]
    assert "new" not in mailbox.messages and "old" in mailbox.messages


def _released(source: GraphMailSource):  # type: ignore[no-untyped-def]
    for batch in source.batches():
        source.release(batch, [sid for sid, _ in batch.mails], complete=True)
        yield batch
