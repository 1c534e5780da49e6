"""SMTP delivery with one reused connection, TLS verified, and failures sorted into transient
(retry later) and permanent (recorded, never retried)."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage


class PermanentSendFailure(Exception):
    """The server refused for good (5xx): record it, do not retry."""


class TransientSendFailure(Exception):
    """4xx or the network: try again later."""


class ServerUnavailable(TransientSendFailure):
    """The server did not answer, or dropped the connection: other mail through it waits too."""


class SmtpSetupFailure(Exception):
    """TLS not offered or not trusted, or the login refused: no retry helps until an operator fixes the
    configuration; the event waits in the dead-letter queue for a replay."""


# A connection used this recently is trusted without a NOOP first (a round trip per mail otherwise);
# servers drop idle clients after minutes (RFC 5321 §4.5.3.2.7 suggests 5), not seconds.
TRUSTED_IDLE_SECONDS = 5.0


class SmtpSender:
    def __init__(self, host: str, port: int, tls: str = "none", user: str = "", password: str = "",
                 timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None,
                 oauth_token: Callable[[], str] | None = None) -> None:
        self.host, self.port, self.tls, self.timeout = host, port, tls, timeout
        self._user, self._password, self._oauth_token = user, password, oauth_token
        self._ctx = ssl_context or ssl.create_default_context()
        self._conn: smtplib.SMTP | None = None
        self._last_used = 0.0

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "implicit":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._ctx)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.tls == "starttls":
                conn.ehlo()
                if not conn.has_extn("starttls"):  # never a silent downgrade to plain text
                    conn.close()
                    raise SmtpSetupFailure(
                        f"{self.host}:{self.port} does not offer STARTTLS; refusing to send in clear")
                conn.starttls(context=self._ctx)
        conn.ehlo()
        if self._oauth_token is not None:
            token = self._oauth_token()
            # XOAUTH2 (Google, Microsoft): base64 of "user=..^Aauth=Bearer ..^A^A", sent as the initial response.
            conn.auth("XOAUTH2", lambda challenge=None: f"user={self._user}\x01auth=Bearer {token}\x01\x01",
                      initial_response_ok=True)
        elif self._user:
            conn.login(self._user, self._password)
        return conn

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None and time.monotonic() - self._last_used < TRUSTED_IDLE_SECONDS:
            return self._conn
        if self._conn is not None:
            try:
                if self._conn.noop()[0] == 250:
                    return self._conn
            except (smtplib.SMTPException, OSError):
                pass
            self.close()
        self._conn = self._connect()
        return self._conn

    def send(self, message: EmailMessage | bytes, envelope_from: str, recipients: list[str]) -> None:
        """``message`` as an object, or as the bytes of a mail already written with CRLF line ends."""
        try:
            conn = self._connection()
            if isinstance(message, bytes):
                refused = conn.sendmail(envelope_from, recipients, message)
            else:
                refused = conn.send_message(message, from_addr=envelope_from, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            self._raise_for({r: v for r, v in exc.recipients.items()})
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise SmtpSetupFailure(f"SMTP login to {self.host}:{self.port} refused: {exc.smtp_code}") from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            if 400 <= exc.smtp_code < 500:
                raise TransientSendFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from None
            raise PermanentSendFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from None
        except ssl.SSLError as exc:
            self.close()
            raise SmtpSetupFailure(f"TLS with {self.host}:{self.port} failed: {exc.reason}") from None
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise ServerUnavailable(f"{type(exc).__name__}: {exc}") from None
        except smtplib.SMTPException as exc:
            self.close()
            raise TransientSendFailure(f"{type(exc).__name__}: {exc}") from None
        self._last_used = time.monotonic()
        if refused:
            self._raise_for(refused)

    @staticmethod
    def _raise_for(refused: dict[str, tuple[int, bytes]]) -> None:
        code, text = next(iter(refused.values()))
        exc_type = TransientSendFailure if 400 <= code < 500 else PermanentSendFailure
        raise exc_type(f"recipient refused: {code} {text!r}")

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self._conn = None
