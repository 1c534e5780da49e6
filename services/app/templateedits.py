"""An account's own templates of the automatic mail, as an editor reads and stores them: each kind's
parts (stored, else the stock ones to start from), the account's recent mails to preview against
(services/app/templatepreview.py renders), and storing one kind's parts. What does not pass the
check ``accounts apply`` runs (shared/templates) is refused with each template's line and reason,
and nothing is stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.app.accountedits import edit_account
from services.app.actors import Actor
from services.app.errors import Invalid, NotFound
from shared.accounts.edit import find_account
from shared.db.models import Account, Item, ItemMail
from shared.secrets import SecretBox
from shared.templates import DEFAULTS, KINDS, PARTS, check_templates


class TemplatesRefused(Invalid):
    """Templates that would not render; ``problems`` as the preview gives them (template, line, reason)."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__("not saved: " + "; ".join(p["message"] for p in problems), field="templates")
        self.problems = problems


def _account(session: Session, name: str) -> Account:
    account = find_account(session, name)
    if account is None:
        raise NotFound(f"unknown account {name!r}")
    return account


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise Invalid(f"unknown kind {kind!r} (known: {', '.join(KINDS)})", field="kind")
    return kind


def account_templates(session: Session, actor: Actor, name: str, kind: str) -> dict[str, Any]:
    """``kind``'s parts of the account: its own where it has them (``own`` True), else the stock ones;
    and which kinds it has its own of."""
    actor.require_admin("the accounts' templates")
    stored = dict((_account(session, name).config or {}).get("templates") or {})
    own = {p: s for p, s in (stored.get(_kind(kind)) or {}).items() if s}
    return {"account": name, "kind": kind, "kinds": list(KINDS), "own": bool(own),
            "customised": [k for k in KINDS if stored.get(k)],
            "parts": {p: own.get(p, "") for p in PARTS} if own else dict(DEFAULTS[kind])}


def recent_mails(session: Session, actor: Actor, name: str, limit: int = 20) -> list[dict[str, Any]]:
    """The account's newest inbound mails, to preview a template against."""
    actor.require_admin("the accounts' templates")
    _account(session, name)
    rows = session.execute(select(ItemMail.id, ItemMail.subject, ItemMail.from_address, Item.type, Item.number)
                           .join(Item, Item.id == ItemMail.item_id)
                           .where(ItemMail.account == name, ItemMail.direction == "in")
                           .order_by(ItemMail.id.desc()).limit(limit)).all()
    return [{"id": r.id, "subject": r.subject, "from": r.from_address, "item": f"{r.type} #{r.number}"}
            for r in rows]


def save_templates(session: Session, actor: Actor, name: str, kind: str, parts: dict[str, str],
                   box: SecretBox) -> list[str]:
    """Store ``kind``'s parts for the account (a part left empty is derived as the notifier derives
    it; all empty: the stock templates again). What changed, one line each."""
    actor.require_admin("changing an account")
    account = _account(session, name)
    given = {p: parts[p] for p in PARTS if (parts.get(p) or "").strip()}
    problems = check_templates({_kind(kind): given})
    if problems:
        raise TemplatesRefused([{"template": p.template, "line": p.line, "reason": p.reason, "message": str(p)}
                                for p in problems])
    others = {k: v for k, v in ((account.config or {}).get("templates") or {}).items() if k != kind}
    if given:
        return edit_account(session, actor, name, {"templates": others | {kind: given}}, box)
    if others:
        return edit_account(session, actor, name, {"templates": others}, box)
    return edit_account(session, actor, name, {}, box, unsets=("templates",))
