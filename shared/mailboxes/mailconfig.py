"""The typed configuration of a remote mailbox (the ``config`` column of an IMAP or POP3 account).

Secrets (``password``, ``app_password``) are not here: they are sealed apart (shared/secrets.py).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TlsMode = Literal["implicit", "starttls", "none"]
ExistingMail = Literal["archive", "import", "skip"]
EXISTING_MAIL: tuple[ExistingMail, ...] = ("archive", "import", "skip")


class RemoteConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    port: int | None = Field(None, ge=1, le=65535)  # None: the protocol's default for the TLS mode
    user: str
    # implicit: TLS from the first byte (993/995); starttls: upgrade before login, refused if the
    # server does not offer it; none: clear text, only for a server on a trusted network.
    tls: TlsMode = "implicit"
    ca_file: str | None = None  # trust only this CA bundle instead of the system's
    timeout: float = 60.0  # seconds for connecting and for each answer
    poll_interval: float = 60.0  # seconds between checks when the server cannot push
    # What to do with mail that was there before the first import: archive (the default) stores it
    # as closed items with their original dates, sends nothing and leaves it on the server as it
    # is; import treats it as new mail (open items, auto-replies, the after-fetch action); skip
    # imports only what arrives afterwards.
    existing_mail: ExistingMail = "archive"
    # Mail imported as archive: keep it on the server as it was, or (the operator's choice, once the
    # archive import is done) release it: apply ``after_fetch`` to it as to the mail read since.
    archived_mail: Literal["keep", "release"] = "keep"
    batch_size: int = Field(100, ge=1, le=5000)
    batch_bytes: int = Field(8 * 1024 * 1024, ge=64 * 1024)  # a bigger single mail forms a batch alone
    # password: LOGIN/USER+PASS with the sealed password; xoauth2: SASL XOAUTH2 with an access token
    # from the account's OAuth sign-in (``oauth:``, see shared/oauth/config.py).
    auth: Literal["password", "xoauth2"] = "password"
    oauth: dict[str, Any] | None = None


class ImapConfig(RemoteConfig):
    folder: str = "INBOX"
    # After a mail is stored and published: delete it (\Deleted + UID EXPUNGE of our UIDs), move it
    # to ``move_to`` (MOVE, else COPY + delete), mark it \Seen, or leave it as it was.
    after_fetch: Literal["delete", "move", "mark_read", "leave"] = "mark_read"
    move_to: str | None = None
    idle: bool = True  # use IMAP IDLE (RFC 2177) when the server offers it

    @model_validator(mode="after")
    def _move_needs_target(self) -> ImapConfig:
        if (self.after_fetch == "move") != bool(self.move_to):
            raise ValueError("after_fetch: move needs move_to (and move_to needs after_fetch: move)")
        return self

    @property
    def resolved_port(self) -> int:
        return self.port or (993 if self.tls == "implicit" else 143)


class Pop3Config(RemoteConfig):
    after_fetch: Literal["delete", "leave"] = "delete"
    # POP3 AUTH XOAUTH2: the response on the AUTH line (RFC 5034) or after a "+" (Exchange Online).
    xoauth2_form: Literal["one-line", "two-line"] = "two-line"

    @property
    def resolved_port(self) -> int:
        return self.port or (995 if self.tls == "implicit" else 110)


def password_from(secrets: dict[str, object]) -> str:
    """The app password when there is one (accounts with two-factor authentication), else the password."""
    value = secrets.get("app_password") or secrets.get("password")
    if not isinstance(value, str) or not value:
        raise ValueError("the account has no password or app_password")
    return value
