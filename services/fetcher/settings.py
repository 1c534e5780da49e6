import os
import socket

from shared.settings import CommonSettings


class FetcherSettings(CommonSettings):
    poll_interval: float = 0.25  # drop folders are local: a short poll costs nothing
    accounts_refresh: float = 5.0  # how often accounts and leases are looked at (at most lease_ttl / 3)
    # A file still being written is not taken until it has been unchanged this long.
    settle_seconds: float = 0.2
    # Who this replica is in the lease table; by default host name and process id.
    replica_id: str = ""
    # A replica that stops renewing loses its accounts to the others after this long.
    lease_ttl: float = 30.0
    reidle_after: float = 25 * 60.0  # RFC 2177 asks for a new IDLE at least every 29 minutes
    # Back-off after failures in a row: base * 2^(n-1), capped, jittered; refused logins wait longer.
    backoff_base: float = 5.0
    backoff_cap: float = 900.0
    auth_backoff_base: float = 300.0
    auth_backoff_cap: float = 6 * 3600.0
    max_fetch_attempts: int = 3  # then a mail the server will not give is skipped (and recorded)

    @property
    def resolved_replica_id(self) -> str:
        return self.replica_id or f"{socket.gethostname()}:{os.getpid()}"

    @property
    def tick_interval(self) -> float:
        return min(self.accounts_refresh, self.lease_ttl / 3)
