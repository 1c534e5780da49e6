"""Why fetching an account failed, in six kinds that decide how long to back off:
network, tls, auth, auth_failed (an OAuth sign-in refused), quota, protocol. Server answers are read
for the two-factor case."""

from __future__ import annotations

import re
import socket
import ssl
from typing import Literal

# auth_failed: the OAuth sign-in was refused (revoked, expired, not authorised): only an operator's
# `postroom accounts connect` helps; the token endpoint is not asked again until then.
Kind = Literal["network", "tls", "auth", "auth_failed", "quota", "protocol"]


class FetchError(Exception):
    def __init__(self, kind: Kind, message: str) -> None:
        super().__init__(message)
        self.kind: Kind = kind


class LeaseLost(Exception):
    """Another replica holds the account now: stop reading it at once."""


# Servers that answer a plain login of a two-factor account with a bare AUTHENTICATIONFAILED.
_APP_PASSWORD_PROVIDERS = ("gmail.com", "googlemail.com", "google.com", "outlook.com", "office365.com",
                           "hotmail.com", "live.com", "yahoo.com", "aol.com", "icloud.com", "me.com",
                           "mail.me.com", "fastmail.com", "gmx.", "web.de", "zoho.")
# Typical answers, lowercased with '-' and '_' read as spaces.
_TWO_FACTOR_ANSWERS = ("application specific password", "app password", "web login required",
                       "log in via your web browser", "login via your web browser", "webalert",
                       "two factor", "2 step verification", "2fa")

TWO_FACTOR_HINT = ("the server refused the password, and this account uses two-factor authentication: "
                   "create an app password at the provider and set app_password (or use the provider's "
                   "OAuth sign-in)")


def _normal(text: str) -> str:
    return re.sub(r"[-_]+", " ", text.lower())


def looks_like_two_factor(answer: str, host: str) -> bool:
    text = _normal(answer)
    if any(marker in text for marker in _TWO_FACTOR_ANSWERS):
        return True
    if "[alert]" in text and "web" in text:
        return True
    return "authenticationfailed" in text and any(p in host.lower() for p in _APP_PASSWORD_PROVIDERS)


def login_failed(answer: str, host: str) -> FetchError:
    answer = answer.strip()
    if looks_like_two_factor(answer, host):
        return FetchError("auth", f"{TWO_FACTOR_HINT} (server said: {answer})")
    return FetchError("auth", f"login refused: {answer}")


def classify(exc: BaseException) -> FetchError:
    """Any exception from a fetch attempt as a ``FetchError`` of one kind."""
    if isinstance(exc, FetchError):
        return exc
    from shared.oauth.errors import AuthFailed, TokenUnavailable
    from shared.mailboxes.ratelimit import RateLimited

    if isinstance(exc, AuthFailed):
        return FetchError("auth_failed", str(exc))
    if isinstance(exc, TokenUnavailable):
        return FetchError("network", str(exc))
    if isinstance(exc, RateLimited):
        return FetchError("quota", str(exc))
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return FetchError("tls", text)
    if isinstance(exc, socket.timeout | TimeoutError | ConnectionError | socket.gaierror | EOFError):
        return FetchError("network", text)
    if isinstance(exc, OSError):
        return FetchError("network", text)
    lowered = text.lower()
    if "overquota" in lowered or "quota" in lowered or "[limit]" in lowered or "[inuse]" in lowered:
        return FetchError("quota", text)
    if "abort" in type(exc).__name__.lower() or "eof" in lowered or "socket error" in lowered:
        return FetchError("network", text)
    return FetchError("protocol", text)
