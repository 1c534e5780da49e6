"""The ``oauth:`` block of an account's configuration (secrets such as ``client_secret`` are sealed
apart, see shared/secrets.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

Provider = Literal["microsoft", "google"]
Flow = Literal["device_code", "client_credentials", "auth_code", "installed"]

# Scopes per provider and use. Microsoft: the Exchange Online resource for IMAP/POP3/SMTP, Graph for
# the mail API; "offline_access" is added by msal itself. Google: full mail access is the only
# scope IMAP/SMTP accept; the Gmail API needs only modify (read, label, trash).
SCOPES: dict[tuple[str, str], tuple[str, ...]] = {
    ("microsoft", "imap"): ("https://outlook.office.com/IMAP.AccessAsUser.All",
                            "https://outlook.office.com/POP.AccessAsUser.All",
                            "https://outlook.office.com/SMTP.Send"),
    ("microsoft", "graph"): ("https://graph.microsoft.com/Mail.ReadWrite",),
    ("microsoft", "app"): ("https://graph.microsoft.com/.default",),
    ("microsoft", "app-imap"): ("https://outlook.office365.com/.default",),
    ("google", "imap"): ("https://mail.google.com/",),
    ("google", "gmail"): ("https://www.googleapis.com/auth/gmail.modify",),
}


class OAuthConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Provider
    client_id: str
    # Microsoft: device_code (default), auth_code (a browser sign-in with PKCE, for tenants that block
    # device code) or client_credentials; Google: installed
    flow: Flow | None = None
    tenant: str = "organizations"  # Microsoft: the directory (id or domain); "organizations" for any work account
    authority_host: str = "https://login.microsoftonline.com"
    token_uri: str = "https://oauth2.googleapis.com/token"
    auth_uri: str = "https://accounts.google.com/o/oauth2/auth"
    scopes: tuple[str, ...] = ()  # empty: the defaults for the account kind
    # Google apps whose consent screen is in "Testing" get refresh tokens that die 7 days after consent.
    testing_mode: bool = False
    # Known lifetime of the refresh token, in days; "sliding" restarts with each use, "fixed" counts
    # from consent. Defaults: Microsoft 90 sliding, Google 180 sliding (unused) or 7 fixed (testing).
    refresh_lifetime_days: float | None = None
    refresh_lifetime: Literal["sliding", "fixed"] | None = None
    # App-only sign-in has no refresh token: what lapses is the client secret (24 months at most).
    client_secret_expires_at: datetime | None = None

    @model_validator(mode="after")
    def _flow_fits_provider(self) -> OAuthConfig:
        allowed = {"microsoft": {"device_code", "auth_code", "client_credentials"},
                   "google": {"installed"}}[self.provider]
        if self.resolved_flow not in allowed:
            raise ValueError(f"flow {self.flow!r} is not offered for {self.provider} (use one of {sorted(allowed)})")
        return self

    @property
    def resolved_flow(self) -> Flow:
        return self.flow or ("installed" if self.provider == "google" else "device_code")

    def scopes_for(self, kind: str) -> list[str]:
        if self.scopes:
            return list(self.scopes)
        use = "gmail" if kind == "gmail" else "graph" if kind == "graph" else "imap"
        if self.resolved_flow == "client_credentials":
            use = "app" if kind == "graph" else "app-imap"
        return list(SCOPES[(self.provider, use)])

    @property
    def lifetime(self) -> tuple[float, str] | None:
        """(days, sliding|fixed) of the refresh token, or None when there is none (app-only)."""
        if self.resolved_flow == "client_credentials":
            return None
        if self.provider == "google" and self.testing_mode:
            default = (7.0, "fixed")
        else:
            default = (90.0 if self.provider == "microsoft" else 180.0, "sliding")
        return (self.refresh_lifetime_days or default[0], self.refresh_lifetime or default[1])
