"""``postroom smtp-sink``: a local SMTP server (aiosmtpd) that keeps every mail as an ``.eml`` file."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import click


class EmlDirectoryHandler:
    """aiosmtpd handler: one file per accepted message, named so that ``ls`` sorts them in order."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        with self._lock:
            self._count += 1
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{self._count:05d}.eml"
        header = (f"X-Postroom-Sink-Mail-From: {envelope.mail_from or '<>'}\r\n"
                  f"X-Postroom-Sink-Rcpt-To: {', '.join(envelope.rcpt_tos)}\r\n").encode()
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(header + envelope.original_content)
        tmp.rename(self.directory / name)
        return "250 OK stored"


@click.command("smtp-sink")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=Path("var/outbox"), show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True)
def sink_command(directory: Path, host: str, port: int) -> None:
    """Accept every mail on HOST:PORT and store it under DIR."""
    from aiosmtpd.controller import Controller

    controller = Controller(EmlDirectoryHandler(directory), hostname=host, port=port)
    controller.start()
    click.echo(f"SMTP sink on {host}:{port}, storing mail under {directory}/")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
