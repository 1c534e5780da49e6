"""The HTTP API's settings (``POSTROOM_API_*`` and the common ones)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field

from shared.settings import TokenSecretSettings


class ApiSettings(TokenSecretSettings):
    # A TokenSecretSettings: the API previews what the parser would do with a mail (its tokens verify
    # with the same secrets) and derives the console's CSRF key from the secret.
    api_host: str = "127.0.0.1"  # the deployment sets 0.0.0.0 inside its pod
    api_port: int = Field(8000, ge=1, le=65535)
    # The address people reach the API at, for what it prints and links (make up prints it).
    api_public_url: str = ""
    session_hours: float = Field(12.0, gt=0)
    # Sign-in failures allowed per client address and per email in the window, then 429 until it passes.
    sign_in_failures: int = Field(5, ge=1)
    sign_in_window_seconds: float = Field(300.0, gt=0)
    relay_interval: float = Field(2.0, gt=0)
    # RabbitMQ's management API (e.g. http://rabbitmq:15672; credentials from the URL, else from
    # AMQP_URL) for the queues page's unacked counts and rates; empty: depth and consumers over AMQP.
    rabbitmq_management_url: str = ""
    # The console's session cookie is Secure unless the console runs on http://127.0.0.1 or localhost
    # (None: decided from api_public_url / the host and port); True or False forces it.
    console_secure_cookie: bool | None = None
    # Signs the console's CSRF tokens (with the session's own secret). Empty: derived from the token
    # secret, which every replica already shares.
    console_csrf_key: str = Field("", repr=False)

    @property
    def url(self) -> str:
        return self.api_public_url or f"http://{self.api_host}:{self.api_port}"

    @property
    def secure_cookie(self) -> bool:
        if self.console_secure_cookie is not None:
            return self.console_secure_cookie
        return urlsplit(self.url).scheme != "http" or urlsplit(self.url).hostname not in {"127.0.0.1", "localhost"}
