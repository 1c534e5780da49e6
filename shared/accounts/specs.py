"""Accounts declared in a YAML file, applied into the database idempotently (GitOps-friendly)."""

from __future__ import annotations

from difflib import get_close_matches
from pathlib import Path
from typing import Any

import yaml
from pydantic_core import to_jsonable_python
from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.accounts.readers import Reader, refuse_second_readers
from shared.mailboxes.apiconfig import GmailConfig, GraphConfig
from shared.mailboxes.mailconfig import ImapConfig, Pop3Config
from shared.db.models import Account
from shared.secrets import SecretBox

_COLUMNS = ("kind", "address", "active", "item_type", "project", "auto_reply", "creator", "field_mapping",
            "default_values", "save_attachments", "add_sender_to_notify", "map_senders", "quiet_on_create",
            "reply_status", "reply_moves_step", "reopen_closed", "attribute_forwards", "trusted_authserv_ids",
            "require_verified_sender_for_append", "auto_reply_same_thread")
# Fields sealed with the secret key instead of stored in the clear configuration.
SECRET_FIELDS = frozenset({"password", "app_password", "client_secret", "refresh_token", "smtp_password"})
# The notifier's per-account settings (README: "Auto-replies"): any kind of account may carry them.
NOTIFIER_FIELDS = frozenset({"auto_reply_cc", "templates", "smtp"})
# graph: Microsoft 365 through the Graph mail API; gmail: Google through the Gmail API (both OAuth).
KINDS = ("dropfolder", "stdin", "imap", "pop3", "graph", "gmail")
_REMOTE: dict[str, type[BaseModel]] = {"imap": ImapConfig, "pop3": Pop3Config}
_API: dict[str, type[BaseModel]] = {"graph": GraphConfig, "gmail": GmailConfig}
# The keys of each kind's own configuration (beside every account's fields, the secrets and the
# notifier's settings); any other key is a typo that would be stored and never read.
_KIND_KEYS: dict[str, frozenset[str]] = {
    "imap": frozenset(ImapConfig.model_fields), "pop3": frozenset(Pop3Config.model_fields),
    # "user": the sign-in hint of an OAuth account (shared/oauth/accounts.py).
    "graph": frozenset(GraphConfig.model_fields) | {"oauth", "user"},
    "gmail": frozenset(GmailConfig.model_fields) | {"oauth", "user"},
    "dropfolder": frozenset({"path"}), "stdin": frozenset()}
# The top-level keys of an accounts file, and those only ``postroom config apply`` takes.
CATALOG_KEYS = ("item_types", "projects", "users", "customers", "statuses", "steps", "custom_fields")


def did_you_mean(word: str, known: Any) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``known`` to ``word``, or nothing."""
    close = get_close_matches(word, [str(k) for k in known], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class AccountSpec(BaseModel):
    """One account: the columns every kind has; anything else is the kind's own configuration."""

    model_config = ConfigDict(extra="allow")

    name: str
    kind: str
    address: str
    project: str
    active: bool = True
    item_type: str = "incident"
    auto_reply: bool = True
    auto_reply_same_thread: bool = False  # also auto-reply to a mail that answers one of ours
    # What the itemwriter does with the account's mail (README: "Per-account settings").
    creator: str | None = None  # the email of the user listed as the items' creator
    field_mapping: dict[str, str] = {}  # item field -> mail field, over the recommended defaults
    default_values: dict[str, Any] = {}  # new items: field -> "change value to"
    save_attachments: bool = True
    add_sender_to_notify: bool = False
    map_senders: bool = True  # map the sender to a customer or user by address
    quiet_on_create: bool = True  # new items: no separate notification for the email
    reply_status: str | None = None  # on a reply to an existing item, set this status
    reply_moves_step: bool = True  # ... and place it in its step's "on new mail" step
    reopen_closed: bool = True
    attribute_forwards: bool = False  # an agent's forward counts as from the original sender
    # Authentication-Results from these are believed; Microsoft 365 and Gmail accounts believe the
    # provider's own header when none are named (shared/items/authentication.py).
    trusted_authserv_ids: list[str] = []
    require_verified_sender_for_append: bool = False  # only a sender a trusted server passed appends

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, values: Any) -> Any:
        """A misspelt key is refused, not stored as configuration nothing reads."""
        if not isinstance(values, dict) or values.get("kind") not in _KIND_KEYS:
            return values  # the field validators say what is wrong
        known = set(cls.model_fields) | SECRET_FIELDS | NOTIFIER_FIELDS | _KIND_KEYS[values["kind"]]
        for key in values:
            if key not in known:
                hint = did_you_mean(str(key), known) or f" (see docs/configuration.md for a {values['kind']} account)"
                raise ValueError(f"unknown key {key!r} in account {values.get('name')!r}{hint}")
        return values

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown account kind {kind!r} (known: {', '.join(KINDS)})")
        return kind

    @model_validator(mode="after")
    def _remote_config(self) -> AccountSpec:
        """IMAP and POP3 accounts: the configuration is checked now, not at the first fetch."""
        if self.kind in _REMOTE:
            extra = {k: v for k, v in (self.model_extra or {}).items()
                     if k not in SECRET_FIELDS and k not in NOTIFIER_FIELDS}
            _REMOTE[self.kind].model_validate(extra)
            if (not self.secrets().get("password") and not self.secrets().get("app_password")
                    and extra.get("auth") != "xoauth2"):
                raise ValueError(f"{self.kind} account {self.name!r} needs password or app_password "
                                 "(or auth: xoauth2 with an oauth: block)")
        if self.kind in _API:  # Graph reads /users/{mailbox}: the address unless set
            _API[self.kind].model_validate({"mailbox": self.address, **(self.model_extra or {})})
        self._oauth_sign_in()
        self._templates_fit()
        return self

    def _templates_fit(self) -> None:
        """Templates are checked when stored, not when the first mail would use them."""
        from shared.templates import check_templates

        problems = check_templates((self.model_extra or {}).get("templates"))
        if problems:
            raise ValueError(f"account {self.name!r}: " + "; ".join(f"template {p}" for p in problems))

    def _oauth_sign_in(self) -> None:
        """Graph and Gmail accounts, and IMAP/POP3 with auth: xoauth2, sign in with OAuth."""
        oauth = (self.model_extra or {}).get("oauth")
        if self.kind in {"graph", "gmail"} and not oauth:
            raise ValueError(f"a {self.kind} account needs an oauth: block (provider, client_id, ...)")
        if oauth:
            from shared.oauth.config import OAuthConfig

            provider = OAuthConfig.model_validate(oauth).provider
            if {"graph": "microsoft", "gmail": "google"}.get(self.kind, provider) != provider:
                raise ValueError(f"a {self.kind} account signs in with {provider}: that does not fit")
        elif (self.model_extra or {}).get("auth") == "xoauth2":
            raise ValueError(f"account {self.name!r}: auth: xoauth2 needs an oauth: block")

    @field_validator("project")
    @classmethod
    def _project_required(cls, project: str) -> str:
        if not project.strip():
            raise ValueError("an account needs a project: items are created in it")
        return project

    def secrets(self) -> dict[str, Any]:
        return {k: v for k, v in (self.model_extra or {}).items() if k in SECRET_FIELDS}

    def config(self, base: Path) -> dict[str, Any]:
        extra = {k: v for k, v in (self.model_extra or {}).items() if k not in SECRET_FIELDS}
        if self.kind == "dropfolder":
            extra["path"] = str((base / extra.get("path", f"var/inbox/{self.name}")).absolute())
        if self.kind == "graph":
            extra.setdefault("mailbox", self.address)  # Graph reads /users/{mailbox}
        # YAML turns an unquoted date into a datetime: the config column holds JSON.
        return to_jsonable_python(extra)


def load_specs(path: Path) -> list[AccountSpec]:
    data = yaml.safe_load(path.read_text()) or {}
    return [AccountSpec.model_validate(a) for a in data.get("accounts", [])]


def apply_specs(session: Session, specs: list[AccountSpec], base: Path, box: SecretBox) -> list[str]:
    """Create or update each account; return what changed, one line each (secret values never shown).
    Nothing is stored when one of them would be a second active reader of a mailbox
    (``MailboxTaken``, shared/accounts/readers.py)."""
    configs = {spec.name: spec.config(base) for spec in specs}
    refuse_second_readers(session, [Reader(s.name, s.kind, s.active, configs[s.name]) for s in specs])
    changes = []
    for spec in specs:
        wanted = {c: getattr(spec, c) for c in _COLUMNS} | {"config": spec.config(base)}
        account = session.scalar(select(Account).where(Account.name == spec.name))
        if account is None:
            session.add(Account(name=spec.name, sealed_secrets=box.seal(spec.secrets()), **wanted))
            changes.append(f"+ {spec.name} ({spec.kind})")
            continue
        diff = {k: v for k, v in wanted.items() if getattr(account, k) != v}
        for key, value in diff.items():
            setattr(account, key, value)
        if box.open(account.sealed_secrets) != spec.secrets():
            account.sealed_secrets = box.seal(spec.secrets())
            diff["secrets"] = True
        if diff:
            changes.append(f"~ {spec.name}: {', '.join(sorted(diff))}")
    return changes
