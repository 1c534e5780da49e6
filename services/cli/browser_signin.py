"""The browser step of ``postroom accounts connect`` for Google and for Microsoft's authorization
code flow: the provider's sign-in page opened in a browser, and its redirect back caught by a
one-shot loopback server on 127.0.0.1, or (headless, ``--no-browser``) the address the browser
ended on pasted by the person. Both flows use PKCE (RFC 7636) and check the state."""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

import click

PASTE_PORT = 8765

# start(redirect address) -> (the provider's sign-in address, state, what finish needs);
# finish(the redirect's query, redirect address, what start gave) -> the grant.
Start = Callable[[str], tuple[str, str, Any]]
Finish = Callable[[dict[str, str], str, Any], Any]


def response_from(pasted: str, state: str, provider: str) -> dict[str, str]:
    """The redirect's query from the pasted address (its state checked), or a pasted bare code."""
    pasted = pasted.strip()
    if "code=" not in pasted and "error=" not in pasted:
        return {"code": pasted, "state": state}
    query = dict(parse_qsl(urlparse(pasted).query))
    if query.get("state", "") != state:
        raise click.ClickException("the pasted address belongs to another sign-in (state differs)")
    if "error" in query:
        raise click.ClickException(f"{provider} answered: {query['error']}")
    return query


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


def browser_sign_in(provider: str, start: Start, finish: Finish, no_browser: bool, port: int) -> Any:
    if no_browser:
        redirect = f"http://127.0.0.1:{port or PASTE_PORT}/"
        url, state, context = start(redirect)
        click.echo(f"Open this address in a browser on any machine and sign in:\n\n{url}\n\nThe browser then "
                   f"fails to load {redirect}; copy the whole address it shows (or just code=...).")
        response = response_from(click.prompt("Address or code", hide_input=True), state, provider)
        return finish(response, redirect, context)
    with HTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler) as server:
        redirect = f"http://127.0.0.1:{server.server_address[1]}/"
        url, state, context = start(redirect)
        click.echo(f"Sign in in the browser (opening it); if none opens, visit:\n\n{url}\n")
        webbrowser.open(url)
        response = response_from("http://127.0.0.1" + catch_redirect(server), state, provider)
    return finish(response, redirect, context)


def google_sign_in(auth: Any, no_browser: bool, port: int) -> Any:
    def start(redirect: str) -> tuple[str, str, Any]:
        return auth.authorization_url(redirect)  # (url, state, code verifier)

    def finish(response: dict[str, str], redirect: str, verifier: Any) -> Any:
        return auth.exchange(response["code"], redirect, verifier)

    return browser_sign_in("Google", start, finish, no_browser, port)


def microsoft_sign_in(auth: Any, no_browser: bool, port: int) -> Any:
    def start(redirect: str) -> tuple[str, str, Any]:
        flow, cache = auth.start_auth_code_flow(redirect)
        return flow["auth_uri"], flow["state"], (flow, cache)

    def finish(response: dict[str, str], redirect: str, context: Any) -> Any:
        flow, cache = context
        return auth.finish_auth_code_flow(flow, cache, response)

    return browser_sign_in("Microsoft", start, finish, no_browser, port)
