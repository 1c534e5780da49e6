"""Mail the rules hold back instead of making an item or appending, recorded in the transaction of
the decision (``held_mails``), so a redelivery finds its row instead of recording it twice.

The rules, in order:
- ``own-mail``: our own mail came back (the parser found our signed ``X-Postroom-Loop``): appending
  it would answer ourselves.
- ``inactive-account``: the account is deactivated; mail still on its way (or piped in) waits here
  until a person releases it.

A person's release marks the row ``released``; with ``override`` the rule that held it is set aside
for this one mail, otherwise the mail meets the current rules as any other. Only a mail a rule would
hold reads the table: every other mail costs nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.contracts import Envelope, MailParsed
from shared.db.models import Account, HeldMail, utcnow


@dataclass(frozen=True)
class Hold:
    rule: str
    reason: str


def rule_holding(mail: MailParsed, account: Account) -> Hold | None:
    """The first rule that holds ``mail`` back, or None."""
    if mail.classification.kind == "own-loop":
        return Hold("own-mail", mail.classification.reason or "our own mail came back")
    if not account.active:
        return Hold("inactive-account", f"account {account.name} is inactive: "
                                        f"'postroom accounts activate {account.name}', then release the mail")
    return None


def apply_hold(session: Session, envelope: Envelope[Any], account: Account,
               hold: Hold) -> tuple[bool, HeldMail | None]:
    """(held, row): whether the mail stays held (its row written or found again), or goes on,
    released with ``hold.rule`` set aside (the row, for the decision to say who released it)."""
    mail: MailParsed = envelope.payload
    row = session.scalar(select(HeldMail).where(HeldMail.account == mail.account, HeldMail.source_id == mail.source_id)
                         .with_for_update())
    if row is None:
        # A concurrent writer of the same mail inserts too: the unique key fails one of them, whose
        # retry finds this row.
        session.add(_row(envelope, account, hold))
        session.flush()
        return True, None
    if row.state == "released" and row.override and row.rule == hold.rule:
        return False, row
    if row.state == "released":  # released to the current rules, and one holds it again
        row.state, row.rule, row.reason, row.held_at = "held", hold.rule, hold.reason, utcnow()
        row.times_held += 1
        row.released_at, row.released_by, row.override = None, "", False
    return True, row  # held already: a redelivery


def _row(envelope: Envelope[Any], account: Account, hold: Hold) -> HeldMail:
    mail: MailParsed = envelope.payload
    return HeldMail(
        # The fetcher names its sources as the account kinds.
        account=mail.account, source=account.kind, source_id=mail.source_id, raw_key=mail.raw.key,
        raw_size=mail.raw.size, raw_sha256=mail.raw.sha256, archive=mail.archive,
        message_id=mail.message_id[:1000] if mail.message_id else None,
        from_address=(mail.from_.address if mail.from_ else "")[:320], subject=mail.subject,
        classification=mail.classification.kind, rule=hold.rule, reason=hold.reason,
        correlation_id=envelope.correlation_id, held_at=utcnow(), times_held=1, state="held", released_by="",
        override=False)


def released_note(row: HeldMail) -> str:
    return f"released by {row.released_by or 'a person'} from the hold {row.rule!r}: the rule set aside for this mail"
