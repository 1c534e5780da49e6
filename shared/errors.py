"""How a handler says a message failed. Anything else it raises counts as transient."""


class RetryLater(Exception):
    """Transient: try again later, on the retry ladder, a bounded number of times."""


class WaitOut(RetryLater):
    """Transient, an outage of a server outside (SMTP): retried past ``max_retries`` on the outage
    rungs of the ladder (a backoff with a cap), for as long as the handler raises it; the handler
    bounds the wait itself (the notifier gives a send up after ``max_send_age``)."""


class Reject(Exception):
    """Permanent: this message will never succeed; straight to the dead-letter queue."""
