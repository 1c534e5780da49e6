"""The fetcher service: reads mailboxes, stores each raw mail, publishes it, then releases it."""
