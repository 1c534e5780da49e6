from shared.settings import CommonSettings


class FetcherSettings(CommonSettings):
    poll_interval: float = 0.25  # drop folders are local: a short poll costs nothing
    accounts_refresh: float = 5.0  # how often the account list is re-read from the database
    # A file still being written is not taken until it has been unchanged this long.
    settle_seconds: float = 0.2
