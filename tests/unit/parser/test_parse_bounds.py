"""A mail that would overrun the parser is a permanent rejection with its reason, never a retry:
one the stdlib parser cannot recurse through, and one whose parse takes longer than its bound."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from services.parser.deadline import TimeUp, within
from services.parser.handlers import make_handler
from services.parser.limits import Limits, check_shape
from services.parser.settings import ParserSettings
from shared.broker.memory import MemoryBroker
from shared.broker.port import H_ATTEMPTS, H_REASON
from shared.contracts import BlobRef, Envelope, MailFetched
from shared.errors import Reject
from shared.runner import to_outgoing
from shared.store import FilesystemBlobStore
from tests.support.pipeline import consuming
from tests.support.waiting import wait_for
from tests.unit.parser.conftest import FETCHED, TOKENS, parse

HEAD = "From: a@example.com\r\nTo: b@example.com\r\nMIME-Version: 1.0\r\nSubject: s\r\n"

# The scan bounds MIME nesting, but a header value nests too: comments in comments (RFC 5322
# 3.2.2), which the header value parser reads by recursion. The parser reads the transfer encoding
# of a multipart (RFC 2045 6.4 allows it only 7bit, 8bit or binary), a field the scan has no reason
# to read.
DEEP_COMMENT = (HEAD + 'Content-Type: multipart/mixed; boundary="b"\r\n'
                "Content-Transfer-Encoding: 7bit " + "(" * 3000 + ")" * 3000 + "\r\n\r\n"
                "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n").encode()


def _many_parts(count: int) -> bytes:
    return (HEAD + 'Content-Type: multipart/mixed; boundary="x"\r\n\r\n'
            + "--x\r\nContent-Type: text/plain\r\n\r\nx\r\n" * count + "--x--\r\n").encode()


def test_a_recursion_error_deep_in_the_parser_is_a_rejection_with_the_reason() -> None:
    """The nesting passes the shape scan, the stdlib recursion fails: a Reject that says so."""
    check_shape(DEEP_COMMENT, Limits())  # the scan has nothing against it
    with pytest.raises(Reject, match=r"nested too deeply for the parser \(RecursionError\)"):
        parse(DEEP_COMMENT)


def test_a_mail_the_parser_cannot_recurse_through_goes_to_the_dead_letters_at_once(tmp_path: Path) -> None:
    """Through the parser's handler and the runner: dead-lettered on its first attempt, no retry."""
    store = FilesystemBlobStore(tmp_path)
    ref = store.put(DEEP_COMMENT)
    fetched = MailFetched(account="test", source="stdin", source_id="deep", received_at=FETCHED.received_at,
                          raw=BlobRef(key=ref.key, size=ref.size, sha256=ref.sha256))
    broker = MemoryBroker()
    broker.declare()
    dlq = broker.topology.dead_letter_queue("parser")
    with consuming(broker, "parser", make_handler(store, TOKENS, Limits()), max_retries=4,
                   retry_step=lambda attempt: 0):
        broker.publish([to_outgoing(Envelope.first(fetched))])
        letters = wait_for(lambda: broker.messages(dlq), timeout=15, what="a dead letter")
    headers = letters[0][1]
    assert "RecursionError" in headers[H_REASON] and headers[H_REASON].startswith("rejected")
    assert headers[H_ATTEMPTS] == 1  # the first attempt: "rejected", not "retries exhausted"


def test_a_parse_past_its_time_bound_is_rejected_naming_the_bound() -> None:
    """1,999 parts take the parser a good fraction of a second; a 20 ms bound stops it early."""
    started = time.monotonic()
    with pytest.raises(Reject, match=r"parsing took longer than 0\.02 s"):
        parse(_many_parts(1999), Limits(max_seconds=0.02))
    assert time.monotonic() - started < 0.5


def test_the_time_bound_holds_in_a_worker_thread_and_leaves_it_fit_for_the_next_mail() -> None:
    """The service parses in the broker's worker thread, where no signal can reach."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        thread = worker.submit(threading.get_ident).result()
        assert thread != threading.main_thread().ident
        slow = worker.submit(parse, _many_parts(1999), Limits(max_seconds=0.02))
        with pytest.raises(Reject, match="parsing took longer than"):
            slow.result()
        mail = worker.submit(parse, HEAD + "\r\nhello\r\n", Limits(max_seconds=0.5)).result()
        assert mail.text.strip() == "hello"
        # Past the bound of the mail before, nothing is raised in the thread any more.
        def after_the_bound() -> int:
            time.sleep(0.6)
            return sum(range(1000))

        assert worker.submit(after_the_bound).result() == 499500


def test_a_parse_within_its_time_bound_is_untouched() -> None:
    """The bound only ends what runs past it."""
    mail = parse(_many_parts(50), Limits(max_seconds=10))
    assert mail.text.count("x") == 50


def test_the_parser_settings_bound_one_mail_to_30_seconds_unless_set() -> None:
    """``POSTROOM_MAX_PARSE_SECONDS`` sets it; the default leaves real mail far below."""
    assert ParserSettings(token_secret="s" * 32).limits.max_seconds == 30
    assert ParserSettings(token_secret="s" * 32, max_parse_seconds=2.5).limits.max_seconds == 2.5


def test_the_time_bound_holds_when_its_first_interruption_is_lost() -> None:
    """Raised in a weakref callback or a ``__del__``, Python reports the exception and drops it;
    the watchdog raises it again until the parse has stopped."""

    def drops_the_first() -> None:
        try:
            while True:
                pass
        except TimeUp:
            pass  # as the interpreter does with an exception in a weakref callback
        while True:
            pass

    started = time.monotonic()
    with pytest.raises(Reject, match="parsing took longer than 0.05 s"):
        within(0.05, drops_the_first)
    assert time.monotonic() - started < 1.0
