"""What keeps the console's pages safe in a browser: the headers every page carries, the session and
sign-in cookies, and the CSRF token each form sends back."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from fastapi import Request
from fastapi.responses import Response

from services.api.settings import ApiSettings

SESSION_COOKIE = "postroom_session"
# Before there is a session, the sign-in form's token is bound to this random cookie instead, so a
# page elsewhere cannot sign a browser in to an account of its choosing (login CSRF).
SIGN_IN_COOKIE = "postroom_sign_in"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"

# Scripts, styles and images from our own origin only, never inline: the one script is our copy of
# htmx, which is configured (base.html) to run no eval and inject no style. Frames from our origin:
# a mail's HTML, which is served under the policy below (and htmx keeps the first page's policy for
# every page it swaps in, so the item page cannot have a policy of its own).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
# A mail's HTML: no script, style, form, font or connection at all; images only written into the
# document (its inline images, as data: URLs) and, when the person asked, from anywhere on the web;
# framed by our own pages only; sandboxed even when opened on its own (a unique origin, no script,
# no forms), its links opening a new tab outside the sandbox.
_MAIL_CSP = ("default-src 'none'; img-src data:{remote}; form-action 'none'; base-uri 'none'; "
             "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
                "Cross-Origin-Opener-Policy": "same-origin"}


def mail_frame_headers(remote: bool) -> dict[str, str]:
    """The headers of a mail's HTML, shown in a frame of the item page."""
    return {"Content-Security-Policy": _MAIL_CSP.format(remote=" http: https:" if remote else ""),
            "X-Frame-Options": "SAMEORIGIN"}


def _key(settings: ApiSettings) -> bytes:
    if settings.console_csrf_key:
        return settings.console_csrf_key.encode()
    return hmac.new(settings.resolved_token_secret.encode(), b"postroom console csrf key", hashlib.sha256).digest()


def csrf_token(settings: ApiSettings, bound_to: str) -> str:
    """The token a form of this session (or this sign-in cookie) must carry: an HMAC of the cookie's
    secret, which a page on another site can neither read nor compute."""
    mac = hmac.new(_key(settings), b"csrf\x00" + bound_to.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def csrf_bound_to(request: Request, sign_in_path: str) -> str | None:
    """The cookie value a request's CSRF token is checked against."""
    return request.cookies.get(SIGN_IN_COOKIE if request.url.path == sign_in_path else SESSION_COOKIE)


async def csrf_ok(request: Request, settings: ApiSettings, sign_in_path: str) -> bool:
    """The token in the form's hidden field, or in the header for a request a script makes."""
    bound_to = csrf_bound_to(request, sign_in_path)
    if not bound_to:
        return False
    expected = csrf_token(settings, bound_to)
    sent = [request.headers.get(CSRF_HEADER)]
    if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded",
                                                            "multipart/form-data")):
        sent.append(value if isinstance(value := (await request.form()).get(CSRF_FIELD), str) else None)
    return any(hmac.compare_digest(s, expected) for s in sent if s)


def set_cookie(response: Response, settings: ApiSettings, name: str, value: str, max_age: int) -> None:
    # Strict: the browser sends it on no request another site starts, links included.
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=settings.secure_cookie)


def clear_cookie(response: Response, settings: ApiSettings, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="strict", secure=settings.secure_cookie)


def new_sign_in_nonce() -> str:
    return secrets.token_urlsafe(32)
