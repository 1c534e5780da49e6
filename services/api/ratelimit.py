"""Sign-in failures counted per client address and per email over a sliding window: past the limit,
sign-in answers 429 until the oldest failure leaves the window, whatever the password. Kept in the
process: with several replicas each counts its own (the limit per replica is what holds)."""

from __future__ import annotations

import threading
import time
from collections import deque


class SignInLimiter:
    def __init__(self, failures: int, window: float) -> None:
        self.failures, self.window = failures, window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def wait_for(self, *keys: str) -> float:
        """Seconds until sign-in is allowed again for these keys; 0 when it is."""
        now = time.monotonic()
        with self._lock:
            waits = [times[0] + self.window - now for key in keys
                     if len(times := self._recent(key, now)) >= self.failures]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._seen) > 100_000:  # a flood of made-up addresses: forget the idle ones
                self._seen = {k: v for k, v in self._seen.items() if v}


def sign_in_keys(client: str | None, email: str) -> tuple[str, str]:
    """What failures are counted by, the same for the API's /session and the console's sign-in form."""
    return f"ip:{client or '?'}", f"email:{email.strip().lower()}"
