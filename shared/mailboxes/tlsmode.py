"""Does the port speak the TLS mode the account says? A client that waits for an IMAP or POP3 greeting
on an implicit-TLS port waits out its whole timeout (the server waits for a TLS handshake), and one
that starts TLS on a plain port gets an obscure "wrong version number": ``postroom accounts test``
asks the port directly, in a few seconds, and says which mode it expects; the fetcher, whose
connection failed that way, asks the port afterwards (``hinted``), so the account's health names
the setting to change.
"""

from __future__ import annotations

import socket
import ssl

from shared.mailboxes.failures import FetchError
from shared.mailboxes.mailconfig import ImapConfig, Pop3Config

GREETING_WAIT = 3.0  # seconds a server has to greet before the port is asked for TLS instead
_GREETINGS = (b"* OK", b"* PREAUTH", b"* BYE", b"+OK", b"-ERR")
_PLAIN_PORT = {"imap": 143, "pop3": 110}
_TLS_PORT = {"imap": 993, "pop3": 995}


def _kind(config: ImapConfig | Pop3Config) -> str:
    return "imap" if isinstance(config, ImapConfig) else "pop3"


def _first_bytes(host: str, port: int, connect_timeout: float) -> bytes | None:
    """What the server sends unasked within ``GREETING_WAIT``: ``b""`` for nothing, ``None`` when the
    port cannot be reached (the connection test says why)."""
    try:
        sock = socket.create_connection((host, port), timeout=connect_timeout)
    except OSError:
        return None
    with sock:
        sock.settimeout(GREETING_WAIT)
        try:
            return sock.recv(64)
        except (TimeoutError, OSError):
            return b""


def _speaks_tls(host: str, port: int, connect_timeout: float) -> bool:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # only: is this TLS at all?
    try:
        with socket.create_connection((host, port), timeout=connect_timeout) as sock:
            sock.settimeout(GREETING_WAIT)
            with context.wrap_socket(sock, server_hostname=host):
                return True
    except (OSError, ssl.SSLError):
        return False


def plain_on_tls_port(config: ImapConfig | Pop3Config) -> str | None:
    """Before a connection with ``tls: none`` or ``starttls``: the hint when the port greets nobody in
    clear but answers a TLS handshake; ``None`` when it greets (or cannot be asked)."""
    host, port, kind = config.host, config.resolved_port, _kind(config)
    first = _first_bytes(host, port, min(config.timeout, 10.0))
    if first is None or first or not _speaks_tls(host, port, min(config.timeout, 10.0)):
        return None
    return (f"this port expects implicit TLS: no {kind.upper()} greeting came in clear within "
            f"{GREETING_WAIT:g} s but a TLS handshake was answered; set tls: implicit (port {port}), or use the "
            f"plain port ({_PLAIN_PORT[kind]} by default) with tls: {config.tls}")


def tls_on_plain_port(config: ImapConfig | Pop3Config) -> str | None:
    """After a failed TLS handshake with ``tls: implicit``: the hint when the port greets in clear."""
    kind = _kind(config)
    first = _first_bytes(config.host, config.resolved_port, min(config.timeout, 10.0))
    if not first or not first.startswith(_GREETINGS):
        return None
    return (f"this port speaks plain {kind.upper()} (it greeted in clear), not implicit TLS: set tls: starttls "
            f"to upgrade it before logging in, or use the implicit-TLS port ({_TLS_PORT[kind]} by default)")


def certificate_hint(exc: BaseException) -> str | None:
    if isinstance(exc, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return ("the server's certificate is not trusted here: if it comes from a private CA (or is "
                "self-signed), set ca_file: to the PEM file of that CA")
    return None


def connection_hint(config: ImapConfig | Pop3Config, exc: BaseException) -> str | None:
    """What a failed connection (or STARTTLS) says about the account's TLS settings: the private CA's
    ``ca_file``, or the TLS mode the port expects."""
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return certificate_hint(exc) or (tls_on_plain_port(config) if config.tls == "implicit" else None)
    if isinstance(exc, TimeoutError) and config.tls != "implicit":  # no greeting came: a TLS port?
        return plain_on_tls_port(config)
    return None


def hinted(config: ImapConfig | Pop3Config, exc: BaseException) -> FetchError | None:
    """``exc`` as a TLS error carrying the hint, or ``None`` when there is none to give."""
    hint = connection_hint(config, exc)
    return FetchError("tls", f"{type(exc).__name__}: {exc}; {hint}") if hint else None
