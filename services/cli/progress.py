"""Following an import from the command line: a progress bar redrawn in place when standard output
is a terminal, else one plain line each time the numbers move (logs and pipes get no control
characters)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import click

from shared.accounts.progress import bar, progress_text

Reading = Callable[[], dict[str, Any] | None]  # the progress fields (shared/accounts/progress.py), None: no checkpoint


def follow(read: Reading, interval: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """Read the progress every ``interval`` seconds until nothing is left to go."""
    tty = sys.stdout.isatty()
    last = None
    while True:
        facts = read()
        if facts is None:
            line = "no checkpoint yet: the fetcher has not read this account"
        elif not facts["importing"]:
            if tty and last is not None:
                click.echo("\r" + bar(facts), nl=False)
                click.echo()
            click.echo(f"import done: {facts['done']} mail(s) in this run" if facts["done"] else "up to date")
            return
        else:
            line = bar(facts) if tty else progress_text(facts)
        if tty:
            click.echo("\r" + line + "\x1b[K", nl=False)  # erase what a longer line left behind
        elif line != last:
            click.echo(line)
        last = line
        sleep(interval)
