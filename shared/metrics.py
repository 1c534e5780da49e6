"""Prometheus metrics every service exposes (served by ``shared.health``)."""

from prometheus_client import Counter, Gauge, Histogram

HANDLED = Counter("postroom_messages_handled_total", "Messages handled, by stage and outcome",
                  ["stage", "outcome"])
DURATION = Histogram("postroom_handler_duration_seconds", "Handler duration", ["stage"],
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
RETRIES = Counter("postroom_retries_total", "Messages sent to the retry ladder", ["stage"])
DEAD_LETTERS = Counter("postroom_dead_letters_total", "Messages sent to a dead-letter queue", ["stage"])
FETCHED = Counter("postroom_mails_fetched_total", "Mails stored and published by the fetcher",
                  ["account", "outcome"])
AUTO_REPLIES = Counter("postroom_outbound_mails_total", "Outbound mails by kind and outcome",
                       ["kind", "outcome"])
LOOP_BREAKER_OPEN = Gauge("postroom_loop_breaker_open", "1 while the account's loop breaker is open", ["account"])
LOOP_BREAKER_TRIPS = Counter("postroom_loop_breaker_trips_total", "Times the loop breaker opened", ["account"])
SUPPRESSED = Counter("postroom_outbound_suppressed_total", "Automatic mails not sent, by kind and rule",
                     ["kind", "rule"])
# OAuth accounts: when the sign-in stops working unless an operator acts (the refresh token's known
# end of life, or the client secret's expiry), and 1 while a refresh was refused (needs a reconnect).
TOKEN_EXPIRY = Gauge("postroom_account_token_expiry_timestamp_seconds",
                     "When the account's sign-in lapses without an operator (Unix time)", ["account"])
AUTH_FAILED = Gauge("postroom_account_auth_failed", "1 while the account's sign-in is refused", ["account"])
