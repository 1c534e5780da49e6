"""Prometheus metrics every service exposes (served by ``shared.health``).

Defined here once, so names and labels stay consistent; each service sets the ones it owns. Label
values are bounded sets (stages, outcomes, reasons, account names): never an address or a subject.
"""

from prometheus_client import Counter, Gauge, Histogram

# The runner (every consumer stage).
HANDLED = Counter("postroom_messages_handled_total", "Messages handled, by stage and outcome",
                  ["stage", "outcome"])
DURATION = Histogram("postroom_handler_duration_seconds", "Handler duration", ["stage"],
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
RETRIES = Counter("postroom_retries_total", "Messages sent to the retry ladder", ["stage"])
DEAD_LETTERS = Counter("postroom_dead_letters_total",
                       "Messages sent to a dead-letter queue by the runner, by stage and why "
                       "(undecodable, rejected, retries_exhausted)", ["stage", "reason"])

# The itemwriter.
MAILS_HELD = Counter("postroom_mails_held_total",
                     "Mails the rules held back instead of making an item or appending (postroom held list), "
                     "by account and rule (own-mail, inactive-account); a redelivery is not counted again",
                     ["account", "rule"])

# The fetcher, per account.
FETCHED = Counter("postroom_mails_fetched_total", "Mails stored and published by the fetcher",
                  ["account", "outcome"])
ACCOUNT_FETCH_SUCCESS = Gauge("postroom_account_last_fetch_success",
                              "1 if the account's last fetch succeeded, 0 if it failed", ["account"])
ACCOUNT_LAST_SUCCESS = Gauge("postroom_account_last_success_timestamp_seconds",
                             "Unix time of the account's last successful fetch", ["account"])
ACCOUNT_FETCH_INTERVAL = Gauge("postroom_account_fetch_interval_seconds",
                               "The longest the fetcher waits between two checks of the account: its poll "
                               "interval, or the IDLE renewal period while IMAP IDLE is used", ["account"])
ACCOUNT_FETCH_LAG = Gauge("postroom_account_fetch_lag_seconds",
                          "Delay between the newest fetched mail's arrival in the mailbox (its topmost "
                          "Received date) and its fetch",
                          ["account"])
ACCOUNT_TOKEN_EXPIRY = Gauge("postroom_account_token_expiry_timestamp_seconds",  # set by fetcher/oauth/alerts.py
                             "Unix time at which the account's OAuth refresh token or grant expires", ["account"])
# 1 while the account's OAuth sign-in is refused (auth_failed): an operator must reconnect it.
AUTH_FAILED = Gauge("postroom_account_auth_failed", "1 while the account's OAuth sign-in is refused", ["account"])

# The notifier.
OUTBOUND = Counter("postroom_outbound_mails_total", "Outbound mails by kind and outcome",
                   ["kind", "outcome"])
OUTBOUND_GIVEN_UP = Counter("postroom_outbound_given_up_total",
                            "Outbound mails recorded as failed after waiting out an SMTP outage for the "
                            "longest a send may wait (POSTROOM_MAX_SEND_AGE), by kind", ["kind"])
AUTO_REPLIES_SENT = Counter("postroom_auto_replies_sent_total", "Auto-replies accepted by the SMTP server",
                            ["account"])
AUTO_REPLIES_SUPPRESSED = Counter("postroom_auto_replies_suppressed_total",
                                  "Auto-replies not sent, by account and reason (a short fixed word: "
                                  "automatic, no_sender, system_address, own_address, disabled, loop_breaker, "
                                  "rate_limited)", ["account", "reason"])
LOOP_BREAKER_OPEN = Gauge("postroom_loop_breaker_open",
                          "1 while the account-wide loop breaker (a storm of many correspondents) holds back "
                          "all automatic mail of the account, else 0", ["account"])
# The notifier recomputes both gauges from the database at start and after each change.
LOOP_BREAKERS_OPEN = Gauge("postroom_loop_breakers_open",
                           "Loop breakers open now, by account and scope (recipient, item, account)",
                           ["account", "scope"])
LOOP_BREAKER_TRIPS = Counter("postroom_loop_breaker_trips_total",
                             "Times a loop breaker opened, by account and scope (recipient, item, account)",
                             ["account", "scope"])
# Outbound mail written to the outbox (status pending) and not yet sent or failed: a pending row is
# a send in progress, or one waiting on the retry ladder; one that stays pending long is stuck. The
# notifier recomputes both from the database every minute (every replica: the same figures).
OUTBOUND_PENDING = Gauge("postroom_outbound_pending", "Outbound mails pending (not yet sent or failed), by account",
                         ["account"])
OUTBOUND_OLDEST_PENDING_AGE = Gauge("postroom_outbound_oldest_pending_age_seconds",
                                    "Age of the account's oldest pending outbound mail, 0 when none is pending",
                                    ["account"])
