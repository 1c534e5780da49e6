"""The Gmail source through google-api-python-client with its shipped discovery document and
HTTP-level mocks (HttpMockSequence): list, get raw, modify, history, a 429 and a 401 with refresh."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from googleapiclient.http import HttpMockSequence

from services.fetcher.apicursors import ApiCursors
from services.fetcher.gmail import GmailConfig, GmailMailSource
from shared.mailboxes.gmail_client import gmail_service
from shared.db.engine import make_engine, make_sessionmaker
from shared.db.migrate import upgrade
from tests.support.fake_gmail import FakeGmail
from tests.support.oauth_servers import stop


def ok(body: Any, status: str = "200") -> tuple[dict[str, str], str]:
    return {"status": status}, json.dumps(body) if body is not None else ""


def raw_of(n: str) -> dict[str, str]:
    return {"id": n, "raw": base64.urlsafe_b64encode(f"Subject: {n}\r\n\r\nbody\r\n".encode()).decode().rstrip("=")}


class Recording(HttpMockSequence):  # type: ignore[misc]
    """The mock sequence, keeping each request's method, address and Authorization header."""

    def __init__(self, iterable: list[tuple[dict[str, str], str]]) -> None:
        super().__init__(iterable)
        self.seen: list[tuple[str, str, str, Any]] = []

    def request(self, uri: str, method: str = "GET", body: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        self.seen.append((method, uri, (headers or {}).get("authorization", ""), body))
        return super().request(uri, method, body, headers, **kwargs)


@pytest.fixture
def cursors(tmp_path: Path) -> Iterator[ApiCursors]:
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    upgrade(engine)
    yield ApiCursors(make_sessionmaker(engine), "gm")
    engine.dispose()


def make(http: Recording, cursors: ApiCursors, tokens: list[str] | None = None, **config: Any) -> GmailMailSource:
    issued = list(tokens or ["ya29.one"])

    def token(force: bool) -> str:
        if force:
            issued.pop(0)
        return issued[0]

    config.setdefault("existing_mail", "import")  # these tests mean the mail listed first as new mail
    config = {k: v for k, v in config.items() if v is not None}  # None: the product's default
    source = GmailMailSource(gmail_service(token, http=http), GmailConfig(**config), cursors,
                             sleep=lambda s: waits.append(s) or False)
    waits: list[float] = []
    source.waits = waits  # type: ignore[attr-defined]
    return source


def drain(source: GmailMailSource) -> list[tuple[str, bytes]]:
    got = []
    for batch in source.batches():
        got.extend(batch.mails)
        source.release(batch, [i for i, _ in batch.mails], complete=True)
    return got


def test_the_first_sync_lists_the_label_gets_raw_mail_and_removes_unread_with_the_bearer_token(cursors) -> None:
    http = Recording([ok({"historyId": "100"}), ok({"messages": [{"id": "a"}, {"id": "b"}]}),
                      ok(raw_of("a")), ok(raw_of("b")), ok(None, "204")])
    got = drain(make(http, cursors))
    assert [(i, raw.split(b"\r\n")[0]) for i, raw in got] == [("a", b"Subject: a"), ("b", b"Subject: b")]
    method, uri, auth, body = http.seen[-1]
    assert method == "POST" and "/messages/batchModify" in uri
    assert json.loads(body) == {"ids": ["a", "b"], "removeLabelIds": ["UNREAD"]}
    assert all(a == "Bearer ya29.one" for _, _, a, _ in http.seen)
    assert "labelIds=INBOX" in http.seen[1][1] and "format=raw" in http.seen[2][1]
    assert cursors.get("INBOX") == "100"


def test_a_restart_resumes_from_the_history_id_and_takes_only_added_mail(cursors) -> None:
    cursors.put("INBOX", "100")
    http = Recording([ok({"history": [{"messagesAdded": [{"message": {"id": "c"}}]}], "historyId": "120"}),
                      ok(raw_of("c")), ok({}, "200")])
    assert [i for i, _ in drain(make(http, cursors, after_fetch="trash"))] == ["c"]
    assert "startHistoryId=100" in http.seen[0][1]
    assert http.seen[-1][0] == "POST" and "/messages/c/trash?" in http.seen[-1][1]
    assert cursors.get("INBOX") == "120"


def test_inbox_and_all_mail_never_import_the_same_mail_twice(cursors) -> None:
    http = Recording([ok({"historyId": "5"}), ok({"messages": [{"id": "a"}]}), ok(raw_of("a")),
                      ok({"historyId": "5"}), ok({"messages": [{"id": "a"}, {"id": "z"}]}), ok(raw_of("z"))])
    got = drain(make(http, cursors, labels=("INBOX", "ALL"), after_fetch="leave"))
    assert [i for i, _ in got] == ["a", "z"]


def test_an_expired_history_id_lists_the_label_again(cursors) -> None:
    cursors.put("INBOX", "1")
    http = Recording([ok({"error": {"code": 404, "message": "Requested entity was not found."}}, "404"),
                      ok({"historyId": "300"}), ok({"messages": [{"id": "d"}]}), ok(raw_of("d"))])
    assert [i for i, _ in drain(make(http, cursors, after_fetch="leave"))] == ["d"]
    assert cursors.get("INBOX") == "300"


def test_a_429_and_a_user_rate_limit_back_off_and_resume(cursors) -> None:
    limited = {"error": {"code": 403, "errors": [{"reason": "userRateLimitExceeded"}], "message": "slow down"}}
    http = Recording([ok({"error": {"code": 429, "message": "Too many"}}, "429"), ok({"historyId": "7"}),
                      ok(limited, "403"), ok({"messages": [{"id": "a"}]}), ok(raw_of("a")), ok(None, "204")])
    source = make(http, cursors)
    assert [i for i, _ in drain(source)] == ["a"]
    assert len(source.waits) == 2  # type: ignore[attr-defined]


def test_a_401_refreshes_the_token_once_and_retries(cursors) -> None:
    http = Recording([ok({"error": {"code": 401, "message": "Invalid Credentials"}}, "401"), ok({"historyId": "9"}),
                      ok({"messages": []})])
    assert drain(make(http, cursors, tokens=["ya29.stale", "ya29.fresh"])) == []
    assert [a for _, _, a, _ in http.seen[:2]] == ["Bearer ya29.stale", "Bearer ya29.fresh"]


def test_labels_are_offered_as_the_folder_list(cursors) -> None:
    http = Recording([ok({"labels": [{"id": "INBOX", "name": "INBOX"}, {"id": "Label_3", "name": "Support"}]})])
    assert make(http, cursors).folders() == [("INBOX", "INBOX"), ("Label_3", "Support")]


@pytest.fixture
def fake() -> Iterator[tuple[FakeGmail, str]]:
    gmail = FakeGmail(valid_tokens={"ya29.one"})
    server, base = gmail.serve()
    yield gmail, base
    stop(server)


def at_fake(fake: tuple[FakeGmail, str], cursors: ApiCursors, **config: Any) -> GmailMailSource:
    """A source against the HTTP fake that really waits (the service's ``stop.wait``)."""
    gmail, base = fake
    config.setdefault("existing_mail", "import")  # the mail listed first is meant as new mail here
    return GmailMailSource(gmail_service(lambda force: "ya29.one", base_url=base),
                           GmailConfig(base_url=base, **config), cursors, sleep=threading.Event().wait)


def test_a_429_with_retry_after_2_holds_the_next_gmail_request_back_2_seconds(fake, cursors) -> None:
    gmail, _ = fake
    gmail.deliver("a", b"Subject: a\r\n\r\n")
    gmail.throttle_for(2.0)
    assert [i for i, _ in drain(at_fake(fake, cursors))] == ["a"]
    assert gmail.statuses.count(429) == 1
    throttled = gmail.statuses.index(429)
    assert gmail.times[throttled + 1] - gmail.times[throttled] >= 2.0


def test_new_mail_comes_through_the_history_pages_and_an_expired_history_lists_the_unread_again(fake, cursors) -> None:
    gmail, _ = fake
    gmail.deliver("old", b"Subject: old\r\n\r\n")
    assert [i for i, _ in drain(at_fake(fake, cursors))] == ["old"]
    for n in range(5):  # three history pages of two
        gmail.deliver(f"n{n}", f"Subject: {n}\r\n\r\n".encode())
    assert [i for i, _ in drain(at_fake(fake, cursors))] == [f"n{n}" for n in range(5)]
    assert sum(1 for _, p in gmail.log if "/history?" in p) == 3
    assert cursors.get("INBOX") == str(gmail.history_id)
    gmail.deliver("gap", b"Subject: gap\r\n\r\n")
    gmail.forget_history()
    asked = len(gmail.log)
    assert [i for i, _ in drain(at_fake(fake, cursors))] == ["gap"]  # what was marked read is not again
    assert gmail.statuses[asked] == 404
    [listing] = [p for _, p in gmail.log[asked:] if p.startswith("/gmail/v1/users/me/messages?")]
    assert "labelIds=INBOX" in listing and "labelIds=UNREAD" in listing


def test_mail_listed_at_the_first_sync_is_archived_by_default_and_left_unread(cursors) -> None:
    """existing_mail unset (archive): the first listing is an archive batch; no UNREAD is removed and
    nothing is trashed, though the cursor moves on."""
    http = Recording([ok({"historyId": "100"}), ok({"messages": [{"id": "a"}]}), ok(raw_of("a"))])
    source = make(http, cursors, existing_mail=None)
    batches = []
    for batch in source.batches():
        source.release(batch, [i for i, _ in batch.mails], complete=True)
        batches.append(batch)
    assert [(b.archive, [i for i, _ in b.mails]) for b in batches] == [(True, ["a"])]
    assert not any(method == "POST" for method, *_ in http.seen)
    assert cursors.get("INBOX") == "100"
