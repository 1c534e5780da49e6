"""Net rates between two samples, and which figures are said to be unavailable."""

from __future__ import annotations

from services.cli.queues import render
from services.app.queues import QueueRow, Snapshot, with_net_rates


def snapshot(at: float, ready: int) -> Snapshot:
    return Snapshot(at, "amqp", (QueueRow("parser.mail.fetched", "parser", "work", True, ready, 1),
                                 QueueRow("parser.mail.fetched.dlq", "parser", "dlq", True, 2, 0),
                                 QueueRow("gone", "parser", "retry", False, None, None)))


def test_the_net_rate_is_the_change_in_ready_messages_per_second_between_two_samples() -> None:
    later = with_net_rates(snapshot(12.0, 5), snapshot(10.0, 15))
    assert [r.net_rate for r in later.rows] == [-5.0, 0.0, None]
    assert "net_rate" not in later.unavailable()
    assert with_net_rates(snapshot(10.0, 15), None).rows[0].net_rate is None


def test_over_amqp_the_output_names_the_figures_it_cannot_give_instead_of_inventing_them() -> None:
    snap = snapshot(10.0, 15)
    assert snap.unavailable() == ["unacked", "publish_rate", "deliver_rate", "net_rate"]
    text = render(snap)
    assert "not available over AMQP" in text and "needs --watch" in text
    assert "dead letters: parser 2" in text
    row = next(line for line in text.splitlines() if line.startswith("parser.mail.fetched "))
    assert row.split()[2:] == ["15", "n/a", "1", "n/a", "n/a", "n/a"]
