"""Accounts as people see them (never a secret): the list with health and token expiry, the overview,
one account's report, turning one on or off and fetching one now. Adding, changing and deleting are in
accountedits.py; connecting to the mailbox in accountchecks.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.app.actors import Actor
from services.app.errors import Conflict, NotFound
from shared.accounts.edit import find_account
from shared.accounts.overview import account_rows, token_expiries
from shared.accounts.progress import Progress, account_progress
from shared.accounts.readers import Reader, second_readers
from shared.accounts.report import account_report
from shared.clock import as_utc
from shared.db.models import Account, AccountHealth, OAuthToken, utcnow
from shared.items.authentication import trust_summary
from shared.items.mapping import DEFAULT_MAPPING
from shared.oauth.expiry import token_expiry_readers
from shared.templates.defaults import KINDS as TEMPLATE_KINDS

# What the itemwriter does with the account's mail, as a report lists it.
ITEM_SETTINGS = ("item_type", "project", "creator", "auto_reply", "field_mapping", "default_values",
                 "save_attachments", "add_sender_to_notify", "map_senders", "quiet_on_create", "reply_status",
                 "reply_moves_step", "reopen_closed", "attribute_forwards", "trusted_authserv_ids",
                 "require_verified_sender_for_append", "auto_reply_same_thread")


def _view(account: Account, health: AccountHealth | None, progress: Progress | None,
          expiry: dict[str, datetime | None]) -> dict[str, Any]:
    expires_at = as_utc(expiry.get(account.name))
    return {"name": account.name, "kind": account.kind, "address": account.address, "active": account.active,
            # the current import: done, to go, rate, time left (None before the first checkpoint)
            "progress": progress.as_dict() if progress else None,
            # as in the overview: an OAuth account's sign-in lapses then (None: not signed in yet)
            "has_token": account.name in expiry,
            # it signs in with Microsoft or Google (Graph, Gmail, IMAP/POP3 with XOAUTH2)
            "oauth": account.kind in ("graph", "gmail") or bool((account.config or {}).get("oauth")),
            "token_expires_at": expires_at.isoformat(timespec="seconds") if expires_at else None,
            "item_type": account.item_type, "project": account.project, "auto_reply": account.auto_reply,
            "has_secrets": account.sealed_secrets is not None,
            "health": None if health is None else {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in ((c.key, getattr(health, c.key)) for c in AccountHealth.__table__.columns)
                if k != "account" and "secret" not in k}}


def _one(session: Session, account: Account) -> dict[str, Any]:
    return _view(account, session.get(AccountHealth, account.name),
                 account_progress(session, [account.name]).get(account.name),
                 token_expiries(session, [account], token_expiry_readers()))


def list_accounts(session: Session, actor: Actor) -> list[dict[str, Any]]:
    actor.require_admin("the accounts")
    health = {h.account: h for h in session.scalars(select(AccountHealth))}
    progress = account_progress(session)
    found = session.scalars(select(Account).order_by(Account.name)).all()
    expiry = token_expiries(session, found, token_expiry_readers())
    return [_view(a, health.get(a.name), progress.get(a.name), expiry) for a in found]


def view(session: Session, actor: Actor, name: str) -> dict[str, Any]:
    actor.require_admin("the accounts")
    account = find_account(session, name)
    if account is None:
        raise NotFound(f"unknown account {name!r}")
    return _one(session, account)


def overview(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every account on one row: active, last success, last error, backlog, token expiry."""
    actor.require_admin("the accounts")
    return account_rows(session, token_expiry_readers())


def report(session: Session, actor: Actor, name: str) -> dict[str, Any]:
    """Who reads the account, its health, import progress, mails that could not be fetched, what the
    itemwriter does with its mail and which servers' verdicts it trusts. No secret, sealed or not."""
    actor.require_admin("the accounts")
    found = account_report(session, name)
    account = find_account(session, name)
    if found is None or account is None:
        raise NotFound(f"unknown account {name!r}")
    found["items"] = {key: getattr(account, key) for key in ITEM_SETTINGS}
    found["trust"] = trust_summary(account.kind, account.trusted_authserv_ids or [])
    found["settings"] = effective_settings(account)
    return found


def effective_settings(account: Account) -> dict[str, Any]:
    """Everything that applies to the account's mail beyond the mailbox, as it applies (defaults
    filled in): the field mapping over the recommended one, what a new item and a reply get, the
    auto-reply and the SMTP server it goes out through (no password), and which templates are the
    account's own and which the built-in ones."""
    config = account.config or {}
    smtp = config.get("smtp") or {}
    own = config.get("templates") or {}
    kinds = [k for k in TEMPLATE_KINDS if k != "auto-reply" or account.auto_reply]
    return {
        "field_mapping": {**DEFAULT_MAPPING, **(account.field_mapping or {})},
        "new_items": {"item_type": account.item_type, "project": account.project, "creator": account.creator,
                      "default_values": account.default_values or {},
                      **{k: getattr(account, k) for k in ("save_attachments", "add_sender_to_notify", "map_senders",
                                                          "quiet_on_create")}},
        "replies": {k: getattr(account, k) for k in ("reply_status", "reply_moves_step", "reopen_closed",
                                                     "attribute_forwards", "require_verified_sender_for_append")},
        "auto_reply": {"on": account.auto_reply, "same_thread": account.auto_reply_same_thread,
                       "cc": bool(config.get("auto_reply_cc")),
                       "smtp": {k: smtp[k] for k in ("host", "port", "tls", "user", "auth") if k in smtp} or "default"},
                       # the account's own parts; a part not given is derived or built in (docs/items.md)
        "templates": {kind: sorted(p for p, source in (own.get(kind) or {}).items() if source) or "built-in"
                      for kind in kinds},
    }


def signed_in(session: Session, name: str) -> bool:
    token = session.get(OAuthToken, name)
    return token is not None and token.sealed_cache is not None


def set_active(session: Session, actor: Actor, name: str, active: bool) -> dict[str, Any]:
    """Start or stop fetching the account (its settings, secrets and progress are kept). An OAuth
    account is activated only once signed in, and never while another active account reads its
    mailbox (every mail would be imported twice). ``changed`` is False when it was so already."""
    actor.require_admin("changing an account")
    account = find_account(session, name)
    if account is None:
        raise NotFound(f"unknown account {name!r}")
    if account.active == active:
        return _one(session, account) | {"changed": False}
    if active and account.config.get("oauth") and not signed_in(session, name):
        raise Conflict(f"{name} is not signed in yet: connect it first (postroom accounts connect "
                       f"{name}), then activate it")
    if active and (problems := second_readers(session, [Reader(name, account.kind, True, dict(account.config))])):
        raise Conflict("; ".join(problems))
    account.active = active
    if active:
        wake(session, name)
    return _one(session, account) | {"changed": True}


def refresh(session: Session, actor: Actor, name: str) -> dict[str, Any]:
    """Fetch the active account now (``wake``), as after a fix; an inactive one is refused (the
    fetcher reads active accounts only)."""
    actor.require_admin("refreshing an account")
    account = find_account(session, name)
    if account is None:
        raise NotFound(f"unknown account {name!r}")
    if not account.active:
        raise Conflict(f"{name} is inactive: activate it to fetch its mail")
    wake(session, name)
    return _one(session, account)


def wake(session: Session, name: str) -> bool:
    """Try the account again now, after a fix: its back-off ends and its failure streak is cleared, and
    the changed row makes the fetcher restart its reader at the next tick (the scheduler restarts a
    worker whose account row changed). False for an unknown account."""
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        return False
    health = session.get(AccountHealth, name)
    if health is not None:
        health.next_attempt_at, health.consecutive_failures = None, 0
    account.updated_at = utcnow()
    return True
