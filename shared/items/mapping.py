"""From the mail to the item's fields: the account's field mapping over the recommended defaults,
then the account's default values for new items ("change value to"). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.contracts import Address, MailParsed

# The recommended mapping: item field -> mail field. An account's ``field_mapping`` overrides entries;
# mapping a field to "none" leaves it empty.
DEFAULT_MAPPING = {"title": "subject", "description": "body", "contact": "sender", "date": "date"}
MAIL_FIELDS = ("subject", "body", "reply", "sender", "reply_to", "to", "cc", "date", "message_id", "none")
BUILTIN_DEFAULTS = ("status", "step", "customer")  # default values that are not custom fields


@dataclass
class Mapped:
    title: str = ""
    description: str = ""
    contact: Address | None = None
    date: datetime | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # custom fields
    builtin_defaults: dict[str, str] = field(default_factory=dict)  # status, step, customer
    notes: list[str] = field(default_factory=list)


def _mail_value(mail: MailParsed, source: str) -> Any:
    return {
        "subject": mail.subject, "body": mail.text, "reply": mail.reply_text or mail.text, "sender": mail.from_,
        "reply_to": mail.reply_to[0] if mail.reply_to else mail.from_,
        "to": mail.to[0] if mail.to else None, "cc": mail.cc[0] if mail.cc else None,
        "date": mail.date, "message_id": mail.message_id, "none": None,
    }[source]


def _as_text(value: Any) -> str:
    if isinstance(value, Address):
        return value.address
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)


def map_mail(mail: MailParsed, mapping: dict[str, str], custom_fields: frozenset[str]) -> Mapped:
    out = Mapped()
    for target, source in {**DEFAULT_MAPPING, **mapping}.items():
        if source not in MAIL_FIELDS:
            out.notes.append(f"mapping {target} <- {source}: unknown mail field, ignored")
            continue
        value = _mail_value(mail, source)
        if target in ("title", "description"):
            setattr(out, target, _as_text(value))
        elif target == "contact":
            out.contact = value if isinstance(value, Address) else None
        elif target == "date":
            out.date = value if isinstance(value, datetime) else None
        elif target in custom_fields:
            out.fields[target] = _as_text(value)
        else:
            out.notes.append(f"mapping {target} <- {source}: no such item field, ignored")
            continue
        out.notes.append(f"{target} <- {source}")
    out.title = (out.title or "(no subject)")[:255]
    return out


def apply_defaults(mapped: Mapped, defaults: dict[str, Any], custom_fields: frozenset[str]) -> None:
    """A new item's default values: each named field is changed to the value, over the mapping."""
    for name, value in defaults.items():
        if name in BUILTIN_DEFAULTS:
            mapped.builtin_defaults[name] = str(value)
        elif name in custom_fields:
            mapped.fields[name] = value
        else:
            mapped.notes.append(f"default {name}={value!r}: no such field, ignored")
            continue
        mapped.notes.append(f"default {name} := {value!r}")
