"""Which SMTP server an account's mail goes through: the installation's default, or the account's own
(``smtp:`` in its configuration, password sealed as ``smtp_password``). Connections are kept per
server and reused across messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.notifier.settings import NotifierSettings
from services.notifier.smtp import SmtpSender
from shared.secrets import SecretBox

TokenProvider = Callable[[str], Callable[[], str]]  # account name -> a function giving a fresh token


class SenderPool:
    def __init__(self, settings: NotifierSettings, default_password: str, box: SecretBox,
                 tokens: TokenProvider | None = None) -> None:
        self._settings, self._default_password, self._box, self._tokens = settings, default_password, box, tokens
        self._senders: dict[tuple[Any, ...], SmtpSender] = {}

    def for_account(self, name: str, config: dict[str, Any], sealed: str | None) -> SmtpSender:
        own = config.get("smtp") or {}
        s = self._settings
        host, port = own.get("host", s.smtp_host), int(own.get("port", s.smtp_port))
        tls, user = own.get("tls", s.smtp_tls), own.get("user", s.smtp_user if not own else "")
        auth = own.get("auth", "password")
        key = (host, port, tls, user, auth, name if auth == "xoauth2" else "")
        if key not in self._senders:
            password = self._box.open(sealed).get("smtp_password", "") if own else self._default_password
            oauth = None
            if auth == "xoauth2":
                if self._tokens is None:
                    raise ValueError(f"account {name}: SMTP auth xoauth2 needs the account's OAuth sign-in")
                oauth = self._tokens(name)
            self._senders[key] = SmtpSender(host, port, tls, user, password, s.smtp_timeout, oauth_token=oauth)
        return self._senders[key]
