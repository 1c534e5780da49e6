"""The Google authorization code step of ``postroom accounts connect``: a one-shot loopback server
catching the redirect, or (headless) the redirect address pasted by the user."""

from __future__ import annotations

import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import click

PASTE_PORT = 8765


def code_from(pasted: str, state: str) -> str:
    """The code from the pasted redirect address (its state checked), or a pasted bare code."""
    pasted = pasted.strip()
    if "code=" not in pasted:
        return pasted
    query = parse_qs(urlparse(pasted).query)
    if query.get("state", [""])[0] != state:
        raise click.ClickException("the pasted address belongs to another sign-in (state differs)")
    if "error" in query:
        raise click.ClickException(f"Google answered: {query['error'][0]}")
    return query["code"][0]


def catch_redirect(server: HTTPServer) -> str:
    """Serve until the browser comes back to the loopback address; return the path it asked for."""
    caught: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            caught.append(self.path)
            body = b"Signed in. You can close this window and return to the terminal.\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # the path holds the code: never logged
            pass

    server.RequestHandlerClass = Handler
    while not caught or "code=" not in caught[-1] and "error=" not in caught[-1]:
        server.handle_request()
    return caught[-1]


def google_sign_in(auth: Any, no_browser: bool, port: int) -> Any:
    if no_browser:
        redirect = f"http://127.0.0.1:{port or PASTE_PORT}/"
        url, state, verifier = auth.authorization_url(redirect)
        click.echo(f"Open this address in a browser on any machine and sign in:\n\n{url}\n\nThe browser then "
                   f"fails to load {redirect}; copy the whole address it shows (or just code=...).")
        code = code_from(click.prompt("Address or code", hide_input=True), state)
        return auth.exchange(code, redirect, verifier)
    with HTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler) as server:
        redirect = f"http://127.0.0.1:{server.server_address[1]}/"
        url, state, verifier = auth.authorization_url(redirect)
        click.echo(f"Sign in in the browser (opening it); if none opens, visit:\n\n{url}\n")
        webbrowser.open(url)
        code = code_from("http://127.0.0.1" + catch_redirect(server), state)
    return auth.exchange(code, redirect, verifier)
