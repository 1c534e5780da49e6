"""Connecting to an account's mailbox the way the fetcher does: the connection test (what is there, or
which step failed: DNS, TCP, TLS, auth), the folders of an IMAP, Graph or Gmail mailbox, and whether
the folders a changed IMAP account names exist there. The mailbox is asked outside any transaction
(the folder check: before anything is written); answers never carry a secret's value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.app.accounts import wake
from services.app.actors import Actor
from services.app.errors import AppError, Conflict, Invalid, NotFound
from shared.accounts.edit import find_account
from shared.mailboxes.failures import classify
from shared.accounts.specs import NOTIFIER_FIELDS, SECRET_FIELDS, AccountSpec
from shared.db.models import ApiCursor, MailboxCursor
from shared.mailboxes.folders import folder_names, gmail_labels, graph_folders, imap_folders, named_folders
from shared.mailboxes.mailconfig import ImapConfig, RemoteConfig, password_from
from shared.mailboxes.probe import probe
from shared.mailboxes.probe_oauth import AccountToken, ProbeFailed, sign_in
from shared.oauth.accounts import AccountAuthenticators
from shared.oauth.store import TokenStore
from shared.oauth.tokens import TokenProvider
from shared.secrets import SecretBox, SecretsUnavailable, mask_secrets


def _read(sessions: sessionmaker[Session], name: str, box: SecretBox) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(kind, config, opened secrets) of the account."""
    with sessions() as session:
        account = find_account(session, name)
        if account is None:
            raise NotFound(f"unknown account {name!r}")
        # The notifier's settings (auto_reply_cc, smtp, templates) are no part of the mailbox's.
        kind, config = account.kind, {k: v for k, v in account.config.items() if k not in NOTIFIER_FIELDS}
        try:
            return kind, config, box.open(account.sealed_secrets)
        except SecretsUnavailable as exc:
            raise Conflict(f"{name}: {exc}") from None


def account_token(sessions: sessionmaker[Session], box: SecretBox, name: str) -> AccountToken:
    """The account's OAuth access token, from the fetcher's token provider."""
    store = TokenStore(sessions, box)
    return AccountToken(name, TokenProvider(store, AccountAuthenticators(sessions, box)), store)


# The step of the connection that failed, as a person reads it (ProbeResult.stage).
STEPS = {"dns": "looking up the server's name (DNS)", "tcp": "connecting (TCP)", "tls": "TLS",
         "auth": "login", "quota": "the mailbox's quota", "protocol": "reading the mailbox", "config": "the settings"}


def _probed(sessions: sessionmaker[Session], box: SecretBox, name: str, kind: str, config: dict[str, Any],
            secrets: dict[str, Any]) -> dict[str, Any]:
    result = probe(kind, config, secrets, account=name,
                   token=account_token(sessions, box, name) if config.get("oauth") else None)
    where = result.counted_in or (config.get("folder", "INBOX") if kind == "imap"
                                  else "maildrop" if kind == "pop3" else "folder")
    return {"name": name, "kind": kind, "ok": result.ok, "summary": mask_secrets(f"{name}: {result.summary}", secrets),
            "stage": result.stage, "step": STEPS.get(result.stage or "", result.stage), "folders": result.folders,
            "messages": result.messages, "counted_in": where if result.messages is not None else None}


def probe_account(sessions: sessionmaker[Session], actor: Actor, name: str, box: SecretBox) -> dict[str, Any]:
    """Connect and log in as the account (an OAuth account with its stored sign-in). ``ok``, a one-line
    ``summary``, on failure the ``stage`` (and the ``step`` as a person says it); the ``folders``
    (labels), and the ``messages`` counted in ``counted_in``. When it works, the fetcher need not wait
    out its back-off."""
    actor.require_admin("testing an account")
    kind, config, secrets = _read(sessions, name, box)
    found = _probed(sessions, box, name, kind, config, secrets)
    if found["ok"]:
        with sessions() as session, session.begin():
            wake(session, name)
    return found | {"first_sync": _first_sync(sessions, name, kind, config)}


def _unsaved(sessions: sessionmaker[Session], values: dict[str, Any], box: SecretBox,
             stored: str | None) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """(name, kind, config, secrets) of an account's values as a form holds them, validated as
    ``AccountSpec`` (``Invalid`` naming the field otherwise); for a ``stored`` account, a secret not
    given is the stored one."""
    from services.app.accountedits import invalid

    if stored is not None:
        _, _, kept = _read(sessions, stored, box)
        values = {k: v for k, v in kept.items() if not values.get(k)} | {k: v for k, v in values.items()
                                                                          if k not in SECRET_FIELDS or v}
    name = str(values.get("name") or stored or "new account")
    try:
        spec = AccountSpec.model_validate(values | {"name": name})
    except ValidationError as exc:
        raise invalid(name, exc, {k: v for k, v in values.items() if k in SECRET_FIELDS}) from None
    config = {k: v for k, v in spec.config(Path.cwd()).items() if k not in NOTIFIER_FIELDS}
    return name, spec.kind, config, spec.secrets()


def probe_values(sessions: sessionmaker[Session], actor: Actor, values: dict[str, Any], box: SecretBox,
                 stored: str | None = None) -> dict[str, Any]:
    """``probe_account`` for an account's values before they are stored (a form's Test connection);
    ``stored``: the account being changed, whose secrets stand in for those not given. An OAuth
    account is tried with the sign-in stored under its name (none for a new one)."""
    actor.require_admin("testing an account")
    name, kind, config, secrets = _unsaved(sessions, values, box, stored)
    return _probed(sessions, box, name, kind, config, secrets)


def _first_sync(sessions: sessionmaker[Session], name: str, kind: str, config: dict[str, Any]) -> str | None:
    """``existing_mail`` while the account has not been read yet (None after its first sync, and for
    kinds without one)."""
    if kind not in ("imap", "pop3", "graph", "gmail"):
        return None
    with sessions() as session:
        read = session.scalar(select(MailboxCursor.folder).where(MailboxCursor.account == name).limit(1)) or \
            session.scalar(select(ApiCursor.folder).where(ApiCursor.account == name).limit(1))
    return None if read is not None else str(config.get("existing_mail",
                                                        RemoteConfig.model_fields["existing_mail"].default))


FOLDER_KINDS = ("imap", "graph", "gmail")


def folders(sessions: sessionmaker[Session], actor: Actor, name: str, box: SecretBox) -> list[dict[str, Any]]:
    """The folders of the account's mailbox, to choose its ``folder`` (Gmail: ``labels``) from: each
    ``{"id", "path", "selected", "flags"}``; ``id`` is the value the setting takes (IMAP: the name;
    Graph: the folder id, subfolders included, ``path`` like "Inbox/Support"; Gmail: the label id),
    ``selected`` marks the one(s) read, ``flags`` are IMAP's. Asks the mailbox (with the stored OAuth
    sign-in for Graph, Gmail and XOAUTH2)."""
    actor.require_admin("an account's folders")
    kind, config, secrets = _read(sessions, name, box)
    return _folders(sessions, box, name, kind, config, secrets)


def folders_of_values(sessions: sessionmaker[Session], actor: Actor, values: dict[str, Any], box: SecretBox,
                      stored: str | None = None) -> list[dict[str, Any]]:
    """``folders`` for an account's values before they are stored (a form's Refresh Folders); ``stored``
    as for ``probe_values``."""
    actor.require_admin("an account's folders")
    name, kind, config, secrets = _unsaved(sessions, values, box, stored)
    return _folders(sessions, box, name, kind, config, secrets)


def _folders(sessions: sessionmaker[Session], box: SecretBox, name: str, kind: str, config: dict[str, Any],
             secrets: dict[str, Any]) -> list[dict[str, Any]]:
    if kind not in FOLDER_KINDS:
        raise Invalid(f"{name} is a {kind} account: only IMAP, Graph and Gmail accounts have folders")
    try:
        if kind in ("graph", "gmail"):
            token = sign_in(account_token(sessions, box, name), name, "microsoft" if kind == "graph" else "google")
            found = (graph_folders if kind == "graph" else gmail_labels)(config, token)
        elif config.get("auth") == "xoauth2":
            found = imap_folders(config, "", token=account_token(sessions, box, name))
        else:
            found = imap_folders(config, password_from(secrets))
    except ProbeFailed as exc:
        raise Conflict(mask_secrets(str(exc), secrets)) from None
    except Exception as exc:
        error = classify(exc)
        raise AppError(mask_secrets(f"{name}: {error.kind} error: {error}", secrets)) from None
    return [choice.as_dict() for choice in found]


FOLDER_CHECK_TIMEOUT = 10.0  # seconds: a change is not held up for the account's whole timeout
# What decides whether the named folders are (still) there.
FOLDER_KEYS = ("host", "port", "tls", "ca_file", "user", "folder", "move_to", "after_fetch", "auth")


def check_named_folders(spec: AccountSpec, base: Path, notes: list[str]) -> None:
    """Refuse (``Invalid``) an IMAP account whose ``folder`` or ``move_to`` the server does not have.
    When the server cannot be asked (unreachable, the login refused, an OAuth sign-in), a note in
    ``notes`` says so and the change goes ahead."""
    if spec.kind != "imap":
        return
    config = spec.config(base)
    imap = ImapConfig.model_validate({k: v for k, v in config.items() if k in ImapConfig.model_fields})
    named = named_folders(imap)
    if not named:
        return
    listed = ", ".join(repr(f) for f in named.values())
    if imap.auth == "xoauth2":
        notes.append(f"{spec.name}: {listed} not checked on {imap.host}: the account signs in with OAuth "
                     f"(check with 'postroom accounts folders {spec.name}' once it is connected)")
        return
    secrets = spec.secrets()
    try:
        quick = imap.model_copy(update={"timeout": min(imap.timeout, FOLDER_CHECK_TIMEOUT)})
        found = folder_names(quick, password_from(secrets))
    except Exception as exc:
        error = classify(exc)
        notes.append(mask_secrets(f"{spec.name}: could not check {listed} on {imap.host} ({error.kind} error: "
                                  f"{error}): stored unchecked", secrets))
        return
    for key, folder in named.items():
        if folder not in found:
            raise Invalid(mask_secrets(f"{spec.name}: folder {folder!r} ({key}) does not exist on {imap.host}; "
                                       f"folders: {', '.join(found)}", secrets), field=key)
