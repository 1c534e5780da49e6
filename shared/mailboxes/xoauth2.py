"""SASL XOAUTH2 (Google and Microsoft) for IMAP and POP3 logins with an access token.

The initial response is ``user=<addr>^Aauth=Bearer <token>^A^A`` (base64 on the wire). POP3 has two
forms: ``AUTH XOAUTH2 <b64>`` on one line (RFC 5034 initial response) and ``AUTH XOAUTH2``, a ``+``
continuation, then the response on its own line, which Exchange Online requires.
"""

from __future__ import annotations

import base64
import poplib
from typing import Any, Literal

from shared.mailboxes import poplib_shim


class XOAuth2Refused(Exception):
    """The server refused the token (expired, revoked, or the mailbox not granted)."""


def xoauth2_string(user: str, token: str) -> str:
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def imap_login(client: Any, user: str, token: str) -> None:
    """Log an imapclient ``IMAPClient`` in; a refusal raises ``XOAuth2Refused`` without the token."""
    from imapclient.exceptions import LoginError

    try:
        client.oauth2_login(user, token)
    except LoginError as exc:
        raise XOAuth2Refused(f"IMAP XOAUTH2 login of {user} refused: {_clean(exc)}") from None


def pop3_login(conn: poplib.POP3, user: str, token: str, form: Literal["one-line", "two-line"] = "two-line") -> None:
    encoded = base64.b64encode(xoauth2_string(user, token).encode()).decode()
    try:
        if form == "one-line":
            answer = poplib_shim.command(conn, f"AUTH XOAUTH2 {encoded}")
        else:
            answer = poplib_shim.command(conn, "AUTH XOAUTH2")
            if not answer.startswith(b"+"):
                raise XOAuth2Refused(f"POP3 server does not take AUTH XOAUTH2: {answer[:200]!r}")
            answer = poplib_shim.command(conn, encoded)
        if answer.startswith(b"+") and not answer.startswith(b"+OK"):
            answer = poplib_shim.command(conn, "")  # the server's error challenge: an empty line ends the exchange
    except poplib.error_proto as exc:
        # A refusal may carry a base64 JSON error and wait for an empty line (RFC 7628 3.2.3).
        raise XOAuth2Refused(f"POP3 XOAUTH2 login of {user} refused: {_clean(exc)}") from None
    if not answer.startswith(b"+OK"):
        raise XOAuth2Refused(f"POP3 XOAUTH2 login of {user} refused")


def _clean(exc: BaseException) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return text[:200]
