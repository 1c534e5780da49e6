"""How a handler says a message failed. Anything else it raises counts as transient."""


class RetryLater(Exception):
    """Transient: try again later, on the retry ladder, a bounded number of times."""


class Reject(Exception):
    """Permanent: this message will never succeed; straight to the dead-letter queue."""
