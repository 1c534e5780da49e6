"""The SMTP server the notifier sends to: aiosmtpd in the harness process, recording only what the
checks need (when it accepted each mail, its Message-ID and In-Reply-To), never the bodies."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email import policy
from typing import Any

from tests.support.servers import free_port


@dataclass(frozen=True)
class Accepted:
    at: float  # time.time() when the server answered 250
    message_id: str
    in_reply_to: str
    rcpt: str


class RecordingSink:
    def __init__(self) -> None:
        self.accepted: list[Accepted] = []
        self._lock = threading.Lock()
        self._controller: Any = None
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        head = BytesHeaderParser(policy=policy.compat32).parsebytes(envelope.original_content)
        with self._lock:
            self.accepted.append(Accepted(time.time(), str(head.get("Message-ID", "")).strip(),
                                          str(head.get("In-Reply-To", "")).strip(), ",".join(envelope.rcpt_tos)))
        return "250 OK"

    def start(self) -> RecordingSink:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def snapshot(self) -> list[Accepted]:
        with self._lock:
            return list(self.accepted)
