"""Typed settings read once from the environment; the only module that reads ``os.environ``.

Secrets may come from files (Kubernetes Secrets mounted under ``POSTROOM_SECRETS_DIR``): a file named
like the variable, e.g. ``smtp_password``, wins over nothing and loses to the variable itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.tokens import ItemTokens

# The built-in token secret: known to anyone who reads this file, so good for development only.
DEV_TOKEN_SECRET = "postroom-dev-secret-change-me"
MIN_TOKEN_SECRET_BYTES = 32  # HMAC-SHA256's own key size: fewer bytes give fewer bits to guess
MAKE_A_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
MAKE_A_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
DATABASE_SCHEMES = ("postgresql", "postgres", "sqlite")


class SettingsError(Exception):
    """A setting a service must not start with; the message is one line for the operator.

    Not a ``ValueError``: pydantic would wrap it in a many-line validation report."""


def _secrets_dir() -> str | None:
    path = os.environ.get("POSTROOM_SECRETS_DIR")
    return path if path and Path(path).is_dir() else None


def env_alias(*names: str) -> AliasChoices:
    """Accept the bare name (``AMQP_URL``) and the prefixed one (``POSTROOM_AMQP_URL``)."""
    return AliasChoices(*names, *(f"POSTROOM_{n}" for n in names))


class CommonSettings(BaseSettings):
    """What every service reads: broker, database, storage, logging, health."""

    model_config = SettingsConfigDict(env_prefix="POSTROOM_", extra="ignore", frozen=True, populate_by_name=True,
                                      secrets_dir=_secrets_dir())

    amqp_url: str = Field("amqp://guest:guest@localhost:5672//", validation_alias=env_alias("AMQP_URL"))
    database_url: str = Field("", validation_alias=env_alias("DATABASE_URL"))
    var_dir: Path = Path("var")
    store_dir: Path | None = None
    # Where raw mail and attachments are kept: empty for the filesystem at store_dir, or
    # "s3://BUCKET[/PREFIX]" for S3-compatible object storage (s3_* below).
    store_url: str = ""
    # Retention (postroom retention run): raw mail older than this many days, and the files of items
    # closed this long, are let go; the fetcher's dedup records after retention_digest_days. 0: kept.
    retention_raw_days: int = Field(0, ge=0)
    retention_closed_days: int = Field(0, ge=0)
    retention_digest_days: int = Field(180, ge=0)
    s3_endpoint_url: str = ""  # e.g. https://minio.example:9000; empty: AWS's own for the region
    s3_region: str = "us-east-1"
    s3_access_key_id: str = Field("", repr=False)
    s3_secret_access_key: str = Field("", repr=False)
    # Prefix for every exchange and queue name: lets tests (and tenants) share one broker.
    broker_namespace: str = ""
    # Unacked messages the broker sends ahead; a consumer hands its handler those already waiting, up
    # to batch_size at a time (one publish-confirm wait, one transaction), never waiting for more.
    # Prefetch above the batch size keeps the next batch arriving while one is handled.
    prefetch: int = 64
    batch_size: int = 32
    heartbeat: int = 30
    # The retry ladder: a fixed-TTL queue per step; a message that fails more often goes to the DLQ.
    # NoDecode: the variables are comma-separated (the validators split them), not JSON.
    retry_delays: Annotated[tuple[float, ...], NoDecode] = (1.0, 10.0, 60.0, 600.0)
    max_retries: int = 4
    # The outage rungs (the notifier's SMTP backoff, capped at the last, which repeats): declared beside
    # the retry ladder for the consumers that wait out an outage, with no retry count bound.
    outage_retry_delays: Annotated[tuple[float, ...], NoDecode] = (5.0, 30.0, 120.0, 180.0)
    # RabbitMQ 3.10 quorum queues have no default delivery limit: a consumer that crashes on a
    # message would get it back forever. This bounds it.
    delivery_limit: int = 10
    log_level: str = "INFO"
    log_format: str = "auto"  # auto | json | console
    health_port: int = 0  # 0: no health/metrics endpoint
    # Where people reach the console (e.g. https://postroom.example.com): notifications link to the
    # item's page there. Empty: no link.
    console_url: str = ""
    # How an item is named in subjects; "{number}" is replaced.  "[#{number}]" gives "[#123]".
    item_token_format: str = "[#{number}]"
    # Signs item tokens in Message-IDs so they cannot be guessed. Unset, the file (default
    # ``var/token-secret``, made by ``postroom up``) is read; without either, the built-in value,
    # which the services refuse outside development (``TokenSecretSettings``).
    token_secret: str = Field(DEV_TOKEN_SECRET, repr=False)
    token_secret_file: Path | None = None
    # Rotation: the secrets that signed before the current one, comma-separated. Tokens they signed
    # still verify; every new token is signed with the current secret (docs/token-secret.md).
    token_secrets_old: Annotated[tuple[str, ...], NoDecode] = Field((), repr=False)
    # Development: allow the built-in token secret, or a short one.
    dev_mode: bool = False
    # Keys sealing the secrets stored in the database, newest first (see shared/secrets.py).
    secret_keys: Annotated[tuple[str, ...], NoDecode] = Field((), repr=False)
    secret_key_file: Path | None = None

    @field_validator("secret_keys", "token_secrets_old", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        return split_list(value)

    @property
    def resolved_secret_keys(self) -> tuple[str, ...]:
        """The configured keys, else the key file (default ``var/secret.key``, made by ``make up``)."""
        if self.secret_keys:
            return self.secret_keys
        path = self.secret_key_file or self.var_dir / "secret.key"
        if path.is_file():
            return tuple(k.strip() for k in path.read_text().split() if k.strip())
        return ()

    @property
    def resolved_token_secret(self) -> str:
        """The secret set in the environment (or a mounted file), else the token secret file's."""
        if "token_secret" in self.model_fields_set:
            return self.token_secret
        path = self.token_secret_file or self.var_dir / "token-secret"
        if path.is_file():
            return path.read_text().strip() or self.token_secret
        return self.token_secret

    def item_tokens(self) -> ItemTokens:
        """Signs with the current secret; verifies with it and with each older one."""
        return ItemTokens(self.item_token_format, self.resolved_token_secret, self.token_secrets_old)

    @field_validator("retry_delays", "outage_retry_delays", mode="before")
    @classmethod
    def _split_delays(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(float(v) for v in value.split(",") if v.strip())
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        # The value is never echoed: it may carry the database password.
        if value and value.partition("://")[0].partition("+")[0] not in DATABASE_SCHEMES:
            raise SettingsError("DATABASE_URL is not a database URL: set it to postgresql://USER:PASSWORD@HOST:5432/DB "
                                "(or sqlite:///PATH for a local one)")
        return value

    def database_problem(self) -> str | None:
        """Why a service that opens the database must not start with these settings, or None. Unset,
        DATABASE_URL means the local SQLite file, which only ``postroom up`` or ``db upgrade`` make."""
        if self.database_url:
            return None
        path = self.var_dir / "postroom.db"
        if path.is_file():
            return None
        return (f"DATABASE_URL is not set and there is no local database at {path}: set DATABASE_URL="
                "postgresql://USER:PASSWORD@HOST:5432/DB (or run 'postroom db upgrade' for a local SQLite one)")

    def secret_key_problem(self) -> str | None:
        """Why the keys sealing stored secrets cannot be used, or None (no key at all is allowed: only
        accounts with secrets need one, and they say so)."""
        from cryptography.fernet import Fernet

        if self.secret_key_file is not None and not self.secret_keys and not self.secret_key_file.is_file():
            return (f"POSTROOM_SECRET_KEY_FILE {self.secret_key_file} is not a file: point it at the key file, or "
                    "set POSTROOM_SECRET_KEYS")
        for n, key in enumerate(self.resolved_secret_keys, 1):
            try:
                Fernet(key.encode())
            except (ValueError, TypeError):
                where = "POSTROOM_SECRET_KEYS" if self.secret_keys else "the secret key file"
                return (f"{where} entry {n} is not a Fernet key (32 url-safe base64-encoded bytes): make one with "
                        f"{MAKE_A_KEY}")
        return None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'postroom.db').absolute()}"

    @property
    def resolved_store_dir(self) -> Path:
        return self.store_dir or self.var_dir / "store"

    @field_validator("store_url")
    @classmethod
    def _check_store_url(cls, value: str) -> str:
        if value and not (value.startswith("s3://") and value[5:].strip("/")):
            raise ValueError("POSTROOM_STORE_URL must be empty (the filesystem at POSTROOM_STORE_DIR) or "
                             "s3://BUCKET[/PREFIX]")
        return value


class TokenSecretSettings(CommonSettings):
    """The settings of a service that signs or checks item tokens: it starts only with a real secret.

    With the built-in secret anyone can sign a token for any item; with a short one, guessing the
    key is the attack. ``dev_mode`` allows both, for a laptop."""

    @model_validator(mode="after")
    def _real_token_secret(self) -> TokenSecretSettings:
        if self.dev_mode:
            return self
        problem = token_secret_problem(self.resolved_token_secret)
        if problem:
            raise SettingsError(f"POSTROOM_TOKEN_SECRET {problem}: set it to {MIN_TOKEN_SECRET_BYTES} or more "
                                f"random bytes, made with {MAKE_A_SECRET} (or POSTROOM_DEV_MODE=1 for development)")
        for n, old in enumerate(self.token_secrets_old, 1):
            # An older secret verifies as the current one does: a weak one lets anyone sign a token.
            problem = token_secret_problem(old)
            if problem:
                raise SettingsError(f"POSTROOM_TOKEN_SECRETS_OLD entry {n} {problem}: every older secret must be "
                                    f"{MIN_TOKEN_SECRET_BYTES} or more random bytes too; drop it from the list "
                                    "(or POSTROOM_DEV_MODE=1 for development)")
        return self


def token_secret_problem(secret: str) -> str | None:
    """Why ``secret`` is not fit to sign tokens, or None."""
    if secret == DEV_TOKEN_SECRET:
        return "is the built-in development value"
    if "change-me" in secret.lower():
        return "is a placeholder (CHANGE-ME)"
    size = len(secret.encode())
    if size < MIN_TOKEN_SECRET_BYTES:
        return f"is {size} bytes, fewer than {MIN_TOKEN_SECRET_BYTES}"
    return None


def variable_of(settings_cls: type[BaseSettings], field: str) -> str:
    """The environment variable a setting is read from (its first alias, else the prefixed name)."""
    info = settings_cls.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices) and alias.choices:
        return str(alias.choices[0])
    prefix = settings_cls.model_config.get("env_prefix", "")
    return f"{prefix}{field}".upper()


def settings_problem(settings_cls: type[BaseSettings], exc: ValidationError) -> str:
    """A settings class's validation errors on one line, each naming its variable, never its value."""
    return "; ".join(f"{variable_of(settings_cls, str(e['loc'][0])) if e['loc'] else 'settings'}: "
                     f"{e['msg'].removeprefix('Value error, ')}"
                     for e in exc.errors(include_input=False, include_url=False))


def split_list(value: object) -> object:
    """``"a, b"`` from the environment becomes ``("a", "b")``."""
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return value


def environ_flag(name: str) -> bool:
    """For test and tooling code that must read a flag without a settings class."""
    return os.environ.get(name, "").lower() in {"1", "true", "yes", "on"}
