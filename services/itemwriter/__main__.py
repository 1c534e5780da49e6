"""``python -m services.itemwriter``: run the itemwriter until SIGTERM."""

import sys

from services.itemwriter.bootstrap import build
from services.itemwriter.settings import ItemwriterSettings
from shared.main import run_service

if __name__ == "__main__":
    sys.exit(run_service("itemwriter", ItemwriterSettings, build))
