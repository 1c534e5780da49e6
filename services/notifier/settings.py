from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from shared.settings import CommonSettings, env_alias, split_list


class NotifierSettings(CommonSettings):
    smtp_host: str = Field("localhost", validation_alias=env_alias("SMTP_HOST"))
    smtp_port: int = Field(25, validation_alias=env_alias("SMTP_PORT"))
    smtp_tls: Literal["none", "starttls", "implicit"] = Field("none", validation_alias=env_alias("SMTP_TLS"))
    smtp_user: str = Field("", validation_alias=env_alias("SMTP_USER"))
    smtp_password: str = Field("", repr=False, validation_alias=env_alias("SMTP_PASSWORD"))
    smtp_timeout: float = 30.0
    # Our own addresses are never auto-replied to; every account's address is added to these.
    own_addresses: Annotated[tuple[str, ...], NoDecode] = ()
    auto_reply_template: str = (
        "Hello,\n\nthank you for your message. We have recorded it as {item_type} {token}: {title}\n"
        "Reply to this mail to add to it; keep {token} in the subject.\n"
    )

    @field_validator("own_addresses", mode="before")
    @classmethod
    def _split_own_addresses(cls, value: object) -> object:
        return split_list(value)
