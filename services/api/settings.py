"""The HTTP API's settings (``POSTROOM_API_*`` and the common ones)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import CommonSettings


class ApiSettings(CommonSettings):
    api_host: str = "127.0.0.1"  # the deployment sets 0.0.0.0 inside its pod
    api_port: int = Field(8000, ge=1, le=65535)
    # The address people reach the API at, for what it prints and links (make up prints it).
    api_public_url: str = ""
    session_hours: float = Field(12.0, gt=0)
    # Sign-in failures allowed per client address and per email in the window, then 429 until it passes.
    sign_in_failures: int = Field(5, ge=1)
    sign_in_window_seconds: float = Field(300.0, gt=0)
    relay_interval: float = Field(2.0, gt=0)

    @property
    def url(self) -> str:
        return self.api_public_url or f"http://{self.api_host}:{self.api_port}"
