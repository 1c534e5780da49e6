"""``python -m services.parser``: run the parser until SIGTERM."""

import sys

from services.parser.bootstrap import build
from services.parser.settings import ParserSettings
from shared.main import run_service

if __name__ == "__main__":
    sys.exit(run_service("parser", ParserSettings, build))
