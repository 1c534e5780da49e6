"""A real poplib connection whose RETR of chosen UIDLs answers -ERR, for the bounded-retry tests."""

from __future__ import annotations

import poplib
from typing import Any

from shared.mailboxes.pop3 import default_pop3_factory


class RefusingPop3Factory:
    def __init__(self, refused_uidls: set[str]) -> None:
        self.refused_uidls = refused_uidls
        self.retr_calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        conn = default_pop3_factory(*args, **kwargs)
        real_retr, factory = conn.retr, self

        def retr(number: int) -> Any:
            factory.retr_calls += 1
            uidl = conn.uidl(number).split()[-1].decode()
            if uidl in factory.refused_uidls:
                raise poplib.error_proto(b"-ERR Message unavailable (simulated)")
            return real_retr(number)
        conn.retr = retr
        return conn
