"""The one place that uses poplib's private ``POP3._shortcmd``: poplib has no public way to send a
command it does not wrap (USER, PASS, APOP, STAT, LIST, RETR, DELE, NOOP, RSET, TOP, UIDL, CAPA,
STLS, UTF8, QUIT), and SASL ``AUTH`` (RFC 5034) is not among them. ``_shortcmd`` sends one line and
reads the one-line answer, raising ``poplib.error_proto`` on ``-ERR``, as the public commands do.

poplib is the standard library's: checked against the Python versions in ``VERIFIED``
(``check_version`` at import).
"""

from __future__ import annotations

import platform
import poplib

from shared.library_versions import require

VERIFIED = ("3.11", "3.14")  # Python 3.11 to 3.13: POP3._shortcmd(line) -> bytes, unchanged since 3.0


def check_version(installed: str | None = None) -> str:
    return require("python (poplib)", *VERIFIED,
                   installed=installed if installed is not None else platform.python_version())


check_version()


def command(conn: poplib.POP3, line: str) -> bytes:
    """Send ``line`` and return the server's one-line answer (``+OK ...`` or a ``+`` continuation)."""
    answer: bytes = conn._shortcmd(line)  # type: ignore[attr-defined]  # private: not in typeshed
    return answer
