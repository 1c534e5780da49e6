"""Create or append, in the caller's transaction: every decision is recorded on the mail's row
(``item_mails.decision``) and returned, so ``postroom simulate`` can show it and roll back. A mail
a rule holds back (``holds.py``) is recorded in ``held_mails`` instead, and nothing is published."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shared.items.authentication import assess, trust_summary, trusts_nothing
from services.itemwriter.bounces import Bounce, find_bounce, flag_failing
from services.itemwriter.catalog import Catalog
from services.itemwriter.events import item_changed
from services.itemwriter.holds import apply_hold, released_note, rule_holding
from services.itemwriter.lookups import Lookups
from shared.items.mapping import Mapped, apply_defaults, map_mail
from services.itemwriter.matching import Match, find_item
from services.itemwriter.notifications import Recipients, Situation, recipients
from services.itemwriter.repository import (add_to_notify, dedupe_key, failing_among, insert_item,
                                            link_follow_up, lock_item, notify_list, place_item,
                                            recorded_form, recorded_outputs)
from services.itemwriter.senders import Sender, identify
from services.itemwriter.workflow import Placement, ReplyActions, archived, initial, on_reply
from shared.contracts import Envelope, MailParsed
from shared.db.models import Account, Customer, Item, ItemAttachment, ItemMail
from shared.db.sequences import next_number
from shared.errors import Reject

_INSERT_MAIL = insert(ItemMail.__table__).returning(ItemMail.__table__.c.id)
_INSERT_ATTACHMENT = insert(ItemAttachment.__table__)


@dataclass
class Outcome:
    change: str  # created | appended | duplicate | held
    item: Item | None  # None when held
    matched_by: str
    reason: str
    outputs: list[Envelope[Any]]
    decision: dict[str, Any] = field(default_factory=dict)
    recipients: Recipients | None = None


def write_item(session: Session, envelope: Envelope[Any], lookups: Lookups | None = None) -> Outcome:
    mail: MailParsed = envelope.payload
    lookups = lookups or Lookups(session)
    account = account_of(mail, lookups)
    duplicate = lookups.duplicate(account.item_type, mail)
    if duplicate is not None:
        return Outcome("duplicate", session.get_one(Item, duplicate.item_id), duplicate.matched_by,
                       "the same mail was handled before: its recorded outputs are published again",
                       recorded_outputs(duplicate), dict(duplicate.decision or {}))
    released = None
    hold = rule_holding(mail, account)
    if hold is not None:
        held, released = apply_hold(session, envelope, account, hold)
        if held:
            return Outcome("held", None, hold.rule, hold.reason, [],
                           {"held": {"rule": hold.rule, "reason": hold.reason, "again": released is not None}})
    catalog = lookups.catalog()
    auth = assess(mail.authentication_results, account.trusted_authserv_ids or [], account.kind)
    mapped = map_mail(mail, account.field_mapping or {}, catalog.fields)
    sender = identify(session, account, mail, mapped.contact, auth, lookups)
    bounce = find_bounce(session, account.item_type, mail)
    before: tuple[str, str | None] | None = None
    added: list[tuple[str, str]] = []  # what this mail put on the item's notification list, in order
    if bounce is not None:
        item, placement, match = lock_item(session, bounce.item.id), None, None
        change, matched_by, reason = "appended", bounce.signal, bounce.reason
        flag_failing(session, bounce.flags)
    else:
        match = find_item(session, account, mail, sender)
        change, matched_by, reason = ("created" if match.item is None else "appended"), match.signal, match.reason
        if match.item is None:
            item, placement = _create(session, lookups, account, mail, mapped, sender, catalog, match, added)
        else:
            item = match.item if match.locked else lock_item(session, match.item.id)
            before = (item.status, item.step)
            placement = _append(session, item, account, mail, catalog)
    if bounce is None and account.add_sender_to_notify and not sender.auth.failed and sender.address:
        _listed(added, add_to_notify(session, item.id, sender.address, sender.name, "the account adds senders"))
    situation = Situation(change, sender.address, not sender.auth.failed, mail.classification.automatic, mail.archive,
                          bounce is not None, account.auto_reply, account.quiet_on_create)
    if change == "created":  # no one else sees the new item before commit: its list is what we added
        listed, failing = added, failing_among(session, [address for address, _ in added])
    else:
        listed, failing = notify_list(session, item.id)
    who = recipients(situation, listed, failing)
    decision = _decision(matched_by, reason, match, bounce, sender, mapped, placement, who, account)
    if released is not None:
        decision["notes"].insert(0, released_note(released))
    event = item_changed(session, envelope, change=change, item=item, matched_by=matched_by, before=before,
                         placement=placement, recipients=who, sender_verified=not sender.auth.failed,
                         delivery_failure=bounce is not None, failing=bounce.failing if bounce else [])
    _record_mail(session, item, account, mail, f"{matched_by}: {reason}", decision, [event])
    return Outcome(change, item, matched_by, reason, [event], decision, who)


def account_of(mail: MailParsed, lookups: Lookups) -> Account:
    """The mail's account; ``Reject`` (before anything is written) when there is none."""
    account = lookups.account(mail.account)
    if account is None:
        raise Reject(f"unknown account {mail.account!r}: apply it with 'postroom accounts apply'")
    return account


def _create(session: Session, lookups: Lookups, account: Account, mail: MailParsed, mapped: Mapped,
            sender: Sender, catalog: Catalog, match: Match, added: list[tuple[str, str]]) -> tuple[Item, Placement]:
    apply_defaults(mapped, account.default_values or {}, catalog.fields)
    placement = initial(mapped.builtin_defaults, catalog)
    if mail.archive:
        placement = archived(placement, catalog)
    customer = sender.customer
    if "customer" in mapped.builtin_defaults:
        named = session.scalar(select(Customer).where(Customer.name == mapped.builtin_defaults["customer"]))
        mapped.notes.append(f"default customer {mapped.builtin_defaults['customer']!r}: "
                            + ("set" if named else "no such customer, ignored"))
        customer = named or customer
    creator = lookups.user(account.creator.lower()) if account.creator else None
    if account.creator and creator is None:
        mapped.notes.append(f"creator {account.creator!r} is not a user: the item has no creator")
    item = insert_item(session, {
        "type": account.item_type, "number": next_number(session, account.item_type), "project": account.project,
        "title": mapped.title, "description": mapped.description, "status": placement.status,
        "step": placement.step, "account": account.name, "automatic": mail.classification.automatic,
        "creator_id": creator.id if creator else None, "customer_id": customer.id if customer else None,
        "contact_id": sender.contact.id if sender.contact else None, "fields": mapped.fields,
        "item_date": mapped.date})
    for other in match.follow_up_of:
        link_follow_up(session, item, other, match.reason)
    project = lookups.project(account.project)
    for address in (project.notify if project else []):
        _listed(added, add_to_notify(session, item.id, address, "", f"project {account.project} notifies"))
    return item, placement


def _listed(added: list[tuple[str, str]], row: tuple[str, str] | None) -> None:
    if row is not None:
        added.append(row)


def _append(session: Session, item: Item, account: Account, mail: MailParsed, catalog: Catalog) -> Placement:
    if mail.classification.automatic or mail.archive:
        why = "automatic mail" if mail.classification.automatic else "archive import"
        placement = Placement(item.status, item.step, notes=[f"{why}: status and step unchanged"])
    else:
        actions = ReplyActions(account.reply_status, account.reply_moves_step, account.reopen_closed)
        placement = on_reply(item.status, item.step, actions, catalog)
    place_item(session, item, placement.status, placement.step)
    return placement


def _record_mail(session: Session, item: Item, account: Account, mail: MailParsed, matched_by: str,
                 decision: dict[str, Any], outputs: list[Envelope[Any]]) -> None:
    # Core INSERTs: nothing reads these rows back through the session, and the ORM's unit of work
    # costs more than the statements. The outputs go in the mail's INSERT: what a redelivery re-publishes.
    row_id = session.connection().execute(_INSERT_MAIL, {
        "item_id": item.id, "item_type": item.type, "direction": "in", "account": account.name,
        "source_id": mail.source_id, "dedupe_key": dedupe_key(mail), "message_id": mail.message_id,
        "subject": mail.subject, "from_address": mail.from_.address if mail.from_ else "",
        "from_name": mail.from_.name if mail.from_ else "", "text": mail.text, "reply_text": mail.reply_text,
        "html": mail.html, "raw_key": mail.raw.key,
        "classification": mail.classification.kind, "matched_by": matched_by[:200], "mail_date": mail.date,
        "decision": decision, "outputs": recorded_form(outputs)}).scalar_one()
    if account.save_attachments and mail.attachments:
        session.connection().execute(_INSERT_ATTACHMENT, [
            {"item_id": item.id, "mail_id": row_id, "filename": att.filename[:255],
             "content_type": att.content_type[:255], "size": att.size, "sha256": att.sha256,
             "blob_key": att.blob.key if att.blob else None, "inline": att.inline, "content_id": att.content_id}
            for att in mail.attachments])


def _decision(matched_by: str, reason: str, match: Match | None, bounce: Bounce | None, sender: Sender,
              mapped: Mapped, placement: Placement | None, who: Recipients, account: Account) -> dict[str, Any]:
    notes = list(sender.notes)
    if not account.save_attachments:
        notes.append("the account does not save attachments")
    if trusts_nothing(account.kind, account.trusted_authserv_ids or []):
        notes.append("the account trusts " + trust_summary(account.kind, []))
    return {
        "signal": matched_by, "reason": reason, "considered": match.considered if match else [],
        "follow_up_of": [i.number for i in match.follow_up_of] if match else [],
        "sender": {"address": sender.address, "verified": sender.verified, "verdict": sender.auth.verdict,
                   "auth": sender.auth.reason,
                   "forwarded_by": sender.forwarded_by},
        "failing": bounce.failing if bounce else [], "delivery_reports": bounce.reports if bounce else [],
        "notes": notes, "mapping": mapped.notes,
        "workflow": placement.notes if placement else ["delivery status report: status and step unchanged"],
        "auto_reply": who.auto_reply, "notify": [a.address for a in who.notify],
        "withheld": [w.model_dump() for w in who.withheld],
    }
