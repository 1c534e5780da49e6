"""The in-process fakes of Microsoft's authority and Google's token endpoint served over real
sockets, so a ``postroom`` command (in the test process or a child process) reaches them through its
ordinary HTTP clients. msal refuses an ``http://`` authority: the authority is served over HTTPS with
a throw-away CA, trusted through ``REQUESTS_CA_BUNDLE`` in the command's environment only."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.support.fake_authority import FakeAuthority
from tests.support.fake_google import FakeGoogleToken
from tests.support.tls import TestPki

# (method, path, body, headers) -> (status, JSON) or (status, JSON, extra response headers)
Respond = Callable[[str, str, bytes, Any], tuple[int, bytes] | tuple[int, bytes, dict[str, str]]]


def serve(respond: Respond, pki: TestPki | None = None) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``respond`` on a free loopback port (HTTPS with ``pki``); the server and its base address."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            status, data, *extra = respond(method, self.path, body, self.headers)
            self.send_response(status)
            headers = {"Content-Type": "application/json", **(extra[0] if extra else {})}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._handle("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._handle("POST")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if pki is not None:
        server.socket = pki.server_context().wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    scheme = "https" if pki is not None else "http"
    return server, f"{scheme}://127.0.0.1:{server.server_address[1]}"


def _shown(status: int, data: bytes, headers: dict[str, str], fake: Any) -> tuple[int, bytes, dict[str, str]]:
    """A consent redirect as a page the person acts on, when the fake is told to show one: the
    browser then comes back from the provider's own page (another site), as from a real one."""
    if status != 302 or not getattr(fake, "consent_page", False):
        return status, data, headers
    page = f'<!doctype html><title>Consent</title><a href="{html.escape(headers["Location"])}">Accept</a>'
    return 200, page.encode(), {"Content-Type": "text/html; charset=utf-8"}


def serve_authority(pki: TestPki) -> tuple[ThreadingHTTPServer, FakeAuthority]:
    """A ``FakeAuthority`` at ``https://127.0.0.1:PORT`` (its ``host``)."""
    authority = FakeAuthority()

    def respond(method: str, path: str, body: bytes, headers: Any) -> tuple[int, bytes, dict[str, str]]:
        url = authority.host + path
        if method == "GET":
            answer = authority.get(url)
        else:
            answer = authority.post(url, data=dict(parse_qsl(body.decode())))
        return _shown(answer.status_code, answer.text.encode(), answer.headers, authority)

    server, base = serve(respond, pki)
    authority.host = base
    return server, authority


def serve_google_token(google: FakeGoogleToken) -> tuple[ThreadingHTTPServer, str]:
    """``google`` answering at a plain-HTTP token address (google-auth posts to any ``token_uri``);
    its consent page is ``/auth`` beside it."""

    def respond(method: str, path: str, body: bytes, headers: Any) -> tuple[int, bytes, dict[str, str]]:
        where, _, query = path.partition("?")
        if method == "GET" and where == "/auth":
            return _shown(302, b"{}", {"Location": google.authorize(dict(parse_qsl(query)))}, google)
        if method != "POST":  # a browser on the consent page asks for its icon too
            return 404, b"{}", {}
        answer = google(path, method, body)
        return answer.status, answer.data, {}

    server, base = serve(respond)
    return server, f"{base}/token"


def stop(*servers: Any) -> None:
    for server in servers:
        server.shutdown()
        server.server_close()
