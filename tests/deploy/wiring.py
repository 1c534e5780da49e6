"""What each service's code needs from its deployment, read from the code itself, so the policy
tests follow the services instead of a hand-kept list."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from pydantic import AliasChoices

from services.api.settings import ApiSettings
from services.fetcher.settings import FetcherSettings
from services.itemwriter.settings import ItemwriterSettings
from services.notifier.settings import NotifierSettings
from services.parser.settings import ParserSettings
from shared.settings import CommonSettings, TokenSecretSettings

ROOT = Path(__file__).resolve().parents[2]

# The composition root of each workload, and the settings class it reads.
ENTRY = {
    "fetcher": (ROOT / "services/fetcher/bootstrap.py", FetcherSettings),
    "parser": (ROOT / "services/parser/bootstrap.py", ParserSettings),
    "itemwriter": (ROOT / "services/itemwriter/bootstrap.py", ItemwriterSettings),
    "notifier": (ROOT / "services/notifier/bootstrap.py", NotifierSettings),
    "api": (ROOT / "services/api/bootstrap.py", ApiSettings),
    "migration": (ROOT / "services/cli/db.py", CommonSettings),
}

# Which Secret key a use of a setting (or of a helper that reads it) stands for.
_SECRET_OF = {
    "broker_from": "AMQP_URL",
    "amqp_url": "AMQP_URL",
    "resolved_database_url": "DATABASE_URL",
    "database_url": "DATABASE_URL",
    "token_secret": "POSTROOM_TOKEN_SECRET",
    "resolved_token_secret": "POSTROOM_TOKEN_SECRET",
    "item_tokens": "POSTROOM_TOKEN_SECRET",
    "smtp_password": "SMTP_PASSWORD",
    "resolved_secret_keys": "POSTROOM_SECRET_KEYS",
}


@cache
def _names_used(path: Path) -> frozenset[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
    return frozenset(names)


# The secrets a settings class refuses to start without, wherever in the service the setting is used.
_SECRETS_OF_CLASS = {TokenSecretSettings: {"POSTROOM_TOKEN_SECRET", "POSTROOM_TOKEN_SECRETS_OLD"}}


def secrets_needed(workload: str) -> set[str]:
    used = {key for name, key in _SECRET_OF.items() if name in _names_used(ENTRY[workload][0])}
    settings_cls = ENTRY[workload][1]
    for base, keys in _SECRETS_OF_CLASS.items():
        if issubclass(settings_cls, base):
            used |= keys
    return used


# Workloads that open the blob store only to read it: the notifier, for the attachments of replies.
BLOB_READERS = frozenset({"notifier"})


def opens_blob_store(workload: str) -> bool:
    return bool({"resolved_store_dir", "store_from"} & _names_used(ENTRY[workload][0]))


def writes_blob_store(workload: str) -> bool:
    return opens_blob_store(workload) and workload not in BLOB_READERS


def env_names(settings_cls: type[CommonSettings]) -> set[str]:
    """The environment variables (upper case) a settings class reads."""
    prefix = settings_cls.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, field in settings_cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def all_env_names() -> set[str]:
    # POSTROOM_SECRETS_DIR is read by shared.settings itself, to find the secret files.
    return {"POSTROOM_SECRETS_DIR"}.union(*(env_names(cls) for _, cls in ENTRY.values()))
