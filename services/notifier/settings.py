from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

import re
from datetime import timedelta

from services.notifier.addresses import LIST_ADDRESSES, SYSTEM_SENDERS
from shared.settings import TokenSecretSettings, env_alias, split_list


class NotifierSettings(TokenSecretSettings):
    smtp_host: str = Field("localhost", validation_alias=env_alias("SMTP_HOST"))
    smtp_port: int = Field(25, validation_alias=env_alias("SMTP_PORT"))
    smtp_tls: Literal["none", "starttls", "implicit"] = Field("none", validation_alias=env_alias("SMTP_TLS"))
    smtp_user: str = Field("", validation_alias=env_alias("SMTP_USER"))
    smtp_password: str = Field("", repr=False, validation_alias=env_alias("SMTP_PASSWORD"))
    smtp_timeout: float = 30.0
    # A send the SMTP server cannot take now waits on the outage rungs (POSTROOM_OUTAGE_RETRY_DELAYS)
    # for up to this long after its first attempt, then is recorded on its item as failed.
    max_send_age: timedelta = timedelta(hours=24)
    # Our own addresses are never auto-replied to; every account's address is added to these.
    own_addresses: Annotated[tuple[str, ...], NoDecode] = ()
    # The loop governor (services/notifier/governor.py): who never gets automatic mail, and caps.
    system_sender_pattern: str = SYSTEM_SENDERS  # no automatic mail at all
    list_address_pattern: str = LIST_ADDRESSES  # no auto-reply (to the recipient or from the sender)
    cap_per_recipient: str = "10/10m,100/10h"
    cap_per_item: str = "10/10m,100/10h"
    cap_items_per_sender: str = "20/2h"
    breaker_cap_hits: int = 3  # cap refusals of one correspondent (or item) in the window that open its breaker
    breaker_window_minutes: int = 10
    breaker_cooldown_minutes: int = 60
    # Correspondents hitting their caps within the window that make a storm: the account's breaker opens.
    breaker_storm_correspondents: int = 10

    @field_validator("max_send_age", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> object:
        """``86400`` in the environment is seconds, as a number would be (ISO 8601, ``PT24H``, too)."""
        if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d*)?\s*", value):
            return float(value)
        return value

    @field_validator("own_addresses", mode="before")
    @classmethod
    def _split_own_addresses(cls, value: object) -> object:
        return split_list(value)

    def governor_policy(self):  # type: ignore[no-untyped-def]
        from services.notifier.governor import Cap, Policy

        return Policy(system_senders=re.compile(self.system_sender_pattern, re.I),
                      list_addresses=re.compile(self.list_address_pattern, re.I),
                      per_recipient=parse_caps(self.cap_per_recipient, Cap),
                      per_item=parse_caps(self.cap_per_item, Cap),
                      items_per_sender=parse_caps(self.cap_items_per_sender, Cap),
                      breaker_cap_hits=self.breaker_cap_hits,
                      breaker_window=timedelta(minutes=self.breaker_window_minutes),
                      breaker_cooldown=timedelta(minutes=self.breaker_cooldown_minutes),
                      breaker_storm_correspondents=self.breaker_storm_correspondents)


_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_caps(text: str, cap_type):  # type: ignore[no-untyped-def]
    """``"10/10m,100/10h"``: at most 10 in 10 minutes and 100 in 10 hours."""
    caps = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        limit, _, window = part.partition("/")
        caps.append(cap_type(int(limit), timedelta(**{_UNITS[window[-1]]: int(window[:-1])})))
    return tuple(caps)
