"""The chaos run's re-sends told apart: after a notifier kill (allowed, one per kill), through the
database restart, or otherwise (both failures)."""

from __future__ import annotations

from tests.bench.chaos_report import resends

EVENTS = [(10.0, "SIGKILL parser"), (20.0, "SIGKILL notifier"), (30.0, "PostgreSQL restarting"),
          (33.0, "PostgreSQL back after 3.0 s"), (60.0, "SIGKILL notifier")]


def test_a_re_send_with_a_notifier_kill_between_its_two_acceptances_is_the_documented_window() -> None:
    found = resends([(19.8, 21.0), (59.0, 62.0)], EVENTS)
    assert (found.notifier_kills, found.after_a_kill, found.database, found.unexplained) == (2, 2, 0, 0)
    assert found.ok
    assert found.summary() == ("re-sends: 2 after 2 notifier kills (at most one each), 0 through the database "
                               "restart, 0 otherwise")


def test_a_re_send_through_the_database_restart_or_with_no_kill_before_it_fails_the_run() -> None:
    found = resends([(31.0, 36.0), (12.0, 14.0)], EVENTS)
    assert (found.after_a_kill, found.database, found.unexplained) == (0, 1, 1)
    assert not found.ok


def test_more_re_sends_after_kills_than_kills_fail_the_run() -> None:
    found = resends([(19.0, 21.0), (19.5, 22.0), (59.0, 61.0)], EVENTS)
    assert (found.after_a_kill, found.notifier_kills) == (3, 2) and not found.ok
