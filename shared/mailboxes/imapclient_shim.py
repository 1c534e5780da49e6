"""The one place that reads imapclient's imaplib object (its private ``_imap``), for three things
imapclient does not expose:

- the protocol trace: ``IMAPClient()`` sets its imaplib object's debug level to 5 and sends the
  trace to the ``imapclient.imaplib`` logger, but imaplib formats each line first, ``repr`` of every
  answer included, whatever that logger keeps (``quiet_trace``);
- news the server sent inside the answer to another command: imaplib files untagged EXISTS away,
  imapclient returns them from no call, and the server does not repeat them when IDLE starts
  (``take_exists``);
- lines already read from the socket: a server may send "+ idling" and "* n EXISTS" in one packet,
  imaplib's buffered reader takes both, ``IMAPClient.idle()`` parses the first, and the socket then
  looks quiet, so ``idle_check`` (which polls the socket first) never sees the second (``buffered``).

Checked against the imapclient versions in ``VERIFIED`` (``check_version`` at import).
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

from shared.library_versions import require

VERIFIED = ("4.1", "4.2")  # 4.1.x: IMAPClient._imap is an imaplib.IMAP4 (debug, untagged_responses, file)


def check_version(installed: str | None = None) -> str:
    return require("imapclient", *VERIFIED, installed=installed)


check_version()


def _imaplib(client: Any) -> Any:
    return getattr(client, "_imap", None)


def quiet_trace(client: Any) -> None:
    """Turn imaplib's trace off unless the ``imapclient.imaplib`` logger would keep it."""
    imap = _imaplib(client)
    kept = logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG)
    if imap is not None and hasattr(imap, "debug") and not kept:
        imap.debug = 0


def take_exists(client: Any) -> bool:
    """Did the server announce new mail (EXISTS) since the last call?"""
    untagged = getattr(_imaplib(client), "untagged_responses", None)
    return isinstance(untagged, dict) and untagged.pop("EXISTS", None) is not None


def buffered(client: Any, sock: Any) -> bool:
    """Did the server send more than imaplib has parsed (in imaplib's reader or, over TLS, the
    ``SSLSocket``)?"""
    if getattr(sock, "pending", lambda: 0)():
        return True
    reader = getattr(_imaplib(client), "file", None)
    if reader is None or not hasattr(reader, "peek"):
        return False
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return bool(reader.peek(1))
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(timeout)
