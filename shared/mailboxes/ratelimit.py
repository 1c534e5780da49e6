"""Throttling answers of the mail APIs: how long to wait before asking again."""


class RateLimited(Exception):
    """The API asked us to slow down; the sync stops and the account waits ``retry_after`` seconds
    (the cursor holds what was done, so it resumes where it stopped)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(f"{message}; retry after {retry_after:.0f}s")
        self.retry_after = retry_after


def with_backoff(call, sleep, attempts: int = 3, cap: float = 120.0):  # type: ignore[no-untyped-def]
    """``call()``; on ``RateLimited`` wait (``sleep`` is ``stop.wait`` in the service, a recorder in
    tests) the asked time, doubling each attempt up to ``cap``, then let the last one through."""
    for attempt in range(attempts):
        try:
            return call()
        except RateLimited as exc:
            if attempt == attempts - 1:
                raise
            if sleep(min(cap, exc.retry_after * (2 ** attempt))):
                raise  # stop was set while waiting
    raise AssertionError("unreachable")
