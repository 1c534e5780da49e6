"""How long to wait after the n-th failure in a row: exponential, capped, with jitter so that many
accounts of one provider do not retry in step. Authentication failures wait much longer: retrying a
wrong password quickly gets an account locked."""

from __future__ import annotations

import random
from dataclasses import dataclass

from shared.mailboxes.failures import Kind


@dataclass(frozen=True)
class Backoff:
    base: float = 5.0
    cap: float = 900.0
    auth_base: float = 300.0
    auth_cap: float = 6 * 3600.0

    def delay(self, kind: Kind, failures: int, rand: random.Random | None = None) -> float:
        base, cap = (self.auth_base, self.auth_cap) if kind in ("auth", "auth_failed") else (self.base, self.cap)
        ceiling = min(cap, base * 2 ** max(failures - 1, 0))
        # "Equal jitter": at least half the ceiling, so a streak really slows down.
        return ceiling / 2 + (rand or random).uniform(0, ceiling / 2)
