"""``postroom queues [--watch] [--json] [--management-url URL]``"""

from __future__ import annotations

import json
import time

import click

from services.cli.context import CliContext
from services.app.queues import QueueRow, Snapshot, snapshot as take_snapshot, with_net_rates

_NOTES = {
    "unacked": "unacked, publish/s, deliver/s: not available over AMQP (pass --management-url to read them "
               "from the RabbitMQ management plugin)",
    "net_rate": "net/s: change of ready messages per second between two samples (needs --watch)",
}


def _number(value: float | int | None, exists: bool) -> str:
    if not exists:
        return "-"
    return "n/a" if value is None else (f"{value:+.2f}" if isinstance(value, float) else str(value))


def render(snapshot: Snapshot) -> str:
    width = max(len(r.queue) for r in snapshot.rows)
    head = f"{'QUEUE':<{width}}  {'ROLE':<5} {'READY':>7} {'UNACKED':>7} {'CONSUMERS':>9} {'NET/S':>8} " \
           f"{'PUBLISH/S':>9} {'DELIVER/S':>9}"
    lines = [head]
    for r in snapshot.rows:
        lines.append(_row(r, width, snapshot.source))
    dead = ", ".join(f"{c} {'-' if n is None else n}" for c, n in snapshot.dead_letters().items())
    lines += ["", f"dead letters: {dead}"]
    missing = snapshot.unavailable()
    lines += [_NOTES[key] for key in ("unacked", "net_rate") if key in missing]
    if any(not r.exists for r in snapshot.rows):
        lines.append("-: queue not declared (no service has started with these settings)")
    return "\n".join(lines)


def _row(r: QueueRow, width: int, source: str) -> str:
    ready = str(r.ready) if r.exists else "missing"
    publish = r.publish_rate if source == "management" else None
    deliver = r.deliver_rate if source == "management" else None
    rate = lambda v: _number(None if v is None else float(v), r.exists)  # noqa: E731
    return (f"{r.queue:<{width}}  {r.role:<5} {ready:>7} {_number(r.unacked, r.exists):>7} "
            f"{_number(r.consumers, r.exists):>9} {rate(r.net_rate):>8} {rate(publish):>9} {rate(deliver):>9}")


@click.command("queues")
@click.option("--watch", is_flag=True, help="Refresh until Ctrl-C, with net rates between samples.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between samples with --watch.")
@click.option("--count", type=int, default=None, help="With --watch: stop after this many samples.")
@click.option("--json", "as_json", is_flag=True, help="JSON; with --watch, one JSON document per line.")
@click.option("--management-url", default=None, metavar="URL",
              help="RabbitMQ management API (e.g. http://host:15672) for unacked counts and publish/deliver "
                   "rates; credentials from the URL, else from AMQP_URL.")
@click.pass_obj
def queues_command(ctx: CliContext, watch: bool, interval: float, count: int | None, as_json: bool,
                   management_url: str | None) -> None:
    """Depth, consumers and dead letters of every queue of the topology, from RabbitMQ itself."""
    from shared.broker.management import ManagementError
    from shared.service import topology_from

    topology = topology_from(ctx.settings)
    previous: Snapshot | None = None
    taken = 0
    try:
        while True:
            snapshot = with_net_rates(take_snapshot(ctx.settings.amqp_url, topology, management_url), previous)
            taken += 1
            if as_json:
                click.echo(json.dumps(snapshot.as_json(), indent=None if watch else 2))
            else:
                if watch and previous is not None:
                    click.echo("")
                click.echo(render(snapshot))
            if not watch or (count is not None and taken >= count):
                return
            previous = snapshot
            time.sleep(interval)
    except ManagementError as exc:
        raise click.ClickException(f"management API: {exc}") from None
    except KeyboardInterrupt:
        return
    except Exception as exc:  # the broker unreachable: say so, no traceback
        if type(exc).__module__.startswith("pika"):
            from urllib.parse import urlparse

            where = urlparse(ctx.settings.amqp_url)  # host and port only: the URL may hold a password
            raise click.ClickException(f"RabbitMQ at {where.hostname}:{where.port or 5672}: "
                                       f"{type(exc).__name__}: {exc}") from None
        raise
