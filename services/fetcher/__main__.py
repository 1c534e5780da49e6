"""``python -m services.fetcher``: run the fetcher until SIGTERM."""

import sys

from services.fetcher.bootstrap import build
from services.fetcher.settings import FetcherSettings
from shared.main import run_service

if __name__ == "__main__":
    sys.exit(run_service("fetcher", FetcherSettings, build))
