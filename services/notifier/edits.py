"""A person's change (``item.edited.v1``) read as the item event the notifier plans from: no
auto-reply, a notification to each watcher the application layer named, threaded to the item's last
customer mail. The envelope keeps its id, so the outbox's idempotency holds for it as for mail."""

from __future__ import annotations

from typing import Any

from shared.contracts import Envelope, ItemChanged, ItemEdited, MailSummary


def as_item_changed(envelope: Envelope[Any]) -> Envelope[Any]:
    edited: ItemEdited = envelope.payload
    changed = ItemChanged(change="appended", account=edited.account, item=edited.item,
                          mail=MailSummary(message_id=edited.in_reply_to, subject=edited.subject, from_=None,
                                           references=edited.references),
                          auto_reply=False, matched_by=f"changed by {edited.actor}",
                          status_change=edited.status_change, notify=edited.notify)
    return envelope.model_copy(update={"payload": changed, "type": ItemChanged.ROUTING_KEY})
