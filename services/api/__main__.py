"""``python -m services.api``: the HTTP API until SIGTERM (uvicorn handles the signal and drains)."""

import sys

from services.api.server import serve
from services.api.settings import ApiSettings
from shared.main import load_settings

if __name__ == "__main__":
    settings = load_settings("api", ApiSettings)
    sys.exit(2 if settings is None else serve(settings))
