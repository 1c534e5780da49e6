"""The POP3 adapter over poplib: TLS before any credential (POP3_SSL or STLS, RFC 2595), then UIDL,
RETR and DELE. Deletions take effect only at QUIT (RFC 1939), so a session cut before QUIT deletes
nothing; the sync deletes those mails again next time."""

from __future__ import annotations

import poplib
import ssl
from collections.abc import Callable
from typing import Any

from shared.mailboxes.failures import FetchError, login_failed
from shared.mailboxes.mailconfig import Pop3Config
from shared.mailboxes.xoauth2 import XOAuth2Refused, pop3_login
from shared.mailboxes.tlsctx import client_context
from shared.mailboxes.tlsmode import hinted

Pop3Factory = Callable[..., Any]  # (host, port, *, ssl, ssl_context, timeout) -> poplib.POP3


def default_pop3_factory(host: str, port: int, *, ssl: bool, ssl_context: ssl.SSLContext | None,
                         timeout: float) -> poplib.POP3:
    if ssl:
        return poplib.POP3_SSL(host, port, context=ssl_context, timeout=timeout)
    return poplib.POP3(host, port, timeout=timeout)


def _text(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else ""
    return arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)


def open_pop3(config: Pop3Config, password: str, factory: Pop3Factory = default_pop3_factory,
              token: Callable[[], str] | None = None) -> Pop3Mailbox:
    context = client_context(config.ca_file) if config.tls != "none" else None
    try:
        conn = factory(config.host, config.resolved_port, ssl=config.tls == "implicit", ssl_context=context,
                       timeout=config.timeout)
    except OSError as exc:
        if (error := hinted(config, exc)) is None:
            raise
        raise error from exc
    try:
        if config.tls == "starttls":
            try:
                capabilities = conn.capa()
            except poplib.error_proto:
                capabilities = {}
            if "STLS" not in capabilities:
                raise FetchError("tls", f"{config.host} does not offer STLS: not sending credentials in clear")
            try:
                conn.stls(context)
            except ssl.SSLError as exc:
                if (error := hinted(config, exc)) is None:
                    raise
                raise error from exc
        if token is not None:
            try:
                pop3_login(conn, config.user, token(), config.xoauth2_form)
            except XOAuth2Refused as exc:
                raise FetchError("auth", str(exc)) from None
        else:
            try:
                conn.user(config.user)
                conn.pass_(password)
            except poplib.error_proto as exc:
                raise login_failed(_text(exc), config.host) from None
    except BaseException:
        conn.close()
        raise
    return Pop3Mailbox(conn)


class Pop3Mailbox:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def listing(self) -> list[tuple[int, str]]:
        """(message number, UIDL) of every mail in the maildrop."""
        _, lines, _ = self.conn.uidl()
        pairs = (line.decode("ascii", "replace").split(None, 1) for line in lines)
        return [(int(num), uidl.strip()) for num, uidl in pairs]

    def retr(self, number: int) -> bytes:
        _, lines, _ = self.conn.retr(number)  # poplib already undid the dot-stuffing
        return b"\r\n".join(lines) + b"\r\n"

    def dele(self, number: int) -> None:
        self.conn.dele(number)

    def quit(self) -> None:
        """Commit the deletions and log out."""
        self.conn.quit()

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:
            pass
