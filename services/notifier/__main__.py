"""``python -m services.notifier``: run the notifier until SIGTERM."""

import sys

from services.notifier.bootstrap import build
from services.notifier.settings import NotifierSettings
from shared.main import run_service

if __name__ == "__main__":
    sys.exit(run_service("notifier", NotifierSettings, build))
