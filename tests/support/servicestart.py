"""What a test of a service's start reads from the outside: its health endpoint's status, and the
JSON lines of its log."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def health_status(port: int, path: str) -> int:
    """The HTTP status of ``path`` on the service's health port; 0 while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def log_lines(log: Path) -> list[dict[str, Any]]:
    """The log's JSON lines, in order (anything else the process printed is left out)."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
