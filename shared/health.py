"""``/live``, ``/ready`` and ``/metrics`` for one service.

Liveness means the main loop is making progress (it ticked recently), not that the broker answers:
a broker outage must not get every pod restarted. Readiness means connected and consuming.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


class HealthState:
    def __init__(self, stall_after: float = 120.0) -> None:
        self.stall_after = stall_after
        self._ready = False
        self._last_tick = time.monotonic()
        self._lock = threading.Lock()

    def tick(self) -> None:
        with self._lock:
            self._last_tick = time.monotonic()

    def set_ready(self, ready: bool) -> None:
        with self._lock:
            self._ready = ready
            self._last_tick = time.monotonic()

    @property
    def live(self) -> bool:
        with self._lock:
            return time.monotonic() - self._last_tick < self.stall_after

    @property
    def ready(self) -> bool:
        with self._lock:
            return self._ready


def serve_health(state: HealthState, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path == "/live":
                self._answer(200 if state.live else 503, b"live\n" if state.live else b"stalled\n")
            elif self.path == "/ready":
                self._answer(200 if state.ready else 503, b"ready\n" if state.ready else b"not ready\n")
            elif self.path == "/metrics":
                self._answer(200, generate_latest(), CONTENT_TYPE_LATEST)
            else:
                self._answer(404, b"not found\n")

        def _answer(self, code: int, body: bytes, ctype: str = "text/plain") -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # probes every few seconds: no access log
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
