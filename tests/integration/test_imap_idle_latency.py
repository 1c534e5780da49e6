"""How soon the fetcher publishes a mail that another client APPENDs, idle or while mail flows.

Dovecot announces a change to an IDLE session 0.5 s after it sees it (it gathers changes:
NOTIFY_DELAY_MSECS in its mailbox-watch.c), whatever the client does; the fetcher's own share
must stay small on top of that."""

from __future__ import annotations

import statistics
import threading
import time

from tests.support.dovecot import sample_mail
from tests.support.fetching import apply_account, imap_account
from tests.support.waiting import wait_for


def _publish_times(broker, count: int, stop: threading.Event) -> list[float]:  # type: ignore[no-untyped-def]
    """Watch ``broker`` in a thread: the moment the n-th mail was published, for n < count."""
    times: list[float] = []

    def watch() -> None:
        while len(times) < count and not stop.is_set():
            now = time.monotonic()
            times.extend([now] * (min(len(broker.published), count) - len(times)))
            time.sleep(0.001)
    threading.Thread(target=watch, daemon=True).start()
    return times


def test_a_mail_appended_while_idling_is_published_soon_after_the_servers_notice(
        mail_user, sessions, secret_box, memory_broker, fetcher, faults):
    """A lone mail: Dovecot's 0.5 s notice delay plus little more (median under 0.7 s)."""
    apply_account(sessions, secret_box, **imap_account(mail_user, poll_interval=300, after_fetch="delete"))
    stop, delays = threading.Event(), []
    with fetcher(), mail_user.imap() as client:
        assert faults.idling.wait(10), "the fetcher never entered IDLE"
        times = _publish_times(memory_broker, 8, stop)
        for n in range(8):
            time.sleep(0.3)  # the fetcher is back in IDLE
            started = time.monotonic()
            client.append("INBOX", sample_mail(n))
            wait_for(lambda: len(times) > n, timeout=5.0, interval=0.005, what=f"mail {n} via IDLE")  # noqa: B023
            delays.append(times[n] - started)
        stop.set()
    print("lone mail, APPEND -> published, ms:", [round(d * 1000) for d in delays])
    assert statistics.median(delays) < 0.7, delays


def test_mail_arriving_every_50_ms_is_published_sooner_than_the_servers_idle_notice(
        mail_user, sessions, secret_box, memory_broker, fetcher, faults):
    """While mail flows the fetcher looks again within 50 ms instead of waiting in IDLE for the
    server's notice: the median mail is published well under Dovecot's 0.5 s delay."""
    apply_account(sessions, secret_box, **imap_account(mail_user, poll_interval=300, after_fetch="delete"))
    count, stop, appended = 40, threading.Event(), []
    with fetcher(), mail_user.imap() as client:
        assert faults.idling.wait(10), "the fetcher never entered IDLE"
        times = _publish_times(memory_broker, count, stop)
        started = time.monotonic()
        for n in range(count):
            time.sleep(max(0.0, started + n * 0.05 - time.monotonic()))
            client.append("INBOX", sample_mail(n))
            appended.append(time.monotonic())
        wait_for(lambda: len(times) == count, timeout=10.0, what=f"{count} mails")
        stop.set()
    delays = [t - a for t, a in zip(times, appended, strict=False)]
    print("every 50 ms, APPEND -> published, ms:", [round(d * 1000) for d in delays])
    assert statistics.median(delays) < 0.2, delays
