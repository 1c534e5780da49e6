"""``python -m services.api``: the HTTP API until SIGTERM (uvicorn handles the signal and drains)."""

import sys

from services.api.server import serve
from services.api.settings import ApiSettings

if __name__ == "__main__":
    sys.exit(serve(ApiSettings()))
