"""The parser's handler: a plain function over contracts and ports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.parser.classify import LOOP_HEADER, bounce_of, classify
from services.parser.deadline import within
from services.parser.limits import Limits
from services.parser.mime import Mail, parse_bytes
from services.parser.replies import extract_reply
from services.parser.reports import delivery_reports
from shared.contracts import Attachment, Envelope, ItemRef, MailFetched, MailParsed
from shared.errors import Reject, RetryLater
from shared.logging import get_logger
from shared.store import BlobNotFound, BlobStore
from shared.tokens import ItemTokens

log = get_logger("postroom.parser")


def normalize(raw: bytes, fetched: MailFetched, store: BlobStore | None, tokens: ItemTokens,
              limits: Limits) -> MailParsed:
    """Parse ``raw`` into the normalized message; attachments go to ``store`` when one is given.

    Raises ``Reject`` (with the reason) for a mail past a limit, one whose parse takes longer than
    ``limits.max_seconds``, or one nested too deep for the stdlib parser's recursion; any other
    input gives a message.
    """
    try:
        mail, fields = within(limits.max_seconds, _read, raw, fetched, tokens, limits)
        attachments = []
        for p in mail.parts:
            blob, size, sha256 = p.stored(store)
            attachments.append(Attachment(blob=blob, filename=p.filename, content_type=p.content_type,
                                          size=size, sha256=sha256, inline=p.inline, content_id=p.content_id,
                                          extension=p.extension))
    except RecursionError:
        # The shape scan bounds MIME nesting, but header values nest too (comments in comments),
        # and the stdlib parser recurses on both: the same mail would fail the same way again.
        raise Reject("structure nested too deeply for the parser (RecursionError)") from None
    return MailParsed(**fields, attachments=attachments)


def _read(raw: bytes, fetched: MailFetched, tokens: ItemTokens, limits: Limits) -> tuple[Mail, dict[str, Any]]:
    """The pure part of ``normalize``, which the time bound covers: the mail and the message's
    fields but its attachments, which go to the store."""
    mail = parse_bytes(raw, limits)
    text = _cut(mail.text, limits.max_text_chars, mail.defects, "text body")
    sender = (mail.from_.name or mail.from_.address) if mail.from_ else ""
    reply = extract_reply(_cut(mail.reply_source, limits.max_text_chars, [], ""), sender).text
    html = _cut(mail.html, limits.max_text_chars * 4, mail.defects, "HTML body") if mail.html else None
    classification = classify(mail.message, mail.from_.address if mail.from_ else None, mail.subject,
                              lambda value: tokens.loop_is_ours(value, mail.message_id))
    if classification.kind != "own-loop" and mail.message.get(LOOP_HEADER) is not None:
        mail.defects.append(f"{LOOP_HEADER} not signed by us: ignored")
    bounce = classification.kind == "bounce"
    reports = delivery_reports(mail.message, mail.defects) if bounce else []
    return mail, dict(
        account=fetched.account, source_id=fetched.source_id, raw=fetched.raw, archive=fetched.archive,
        message_id=mail.message_id, date=mail.date, subject=mail.subject, from_=mail.from_,
        reply_to=mail.reply_to, to=mail.to, cc=mail.cc, in_reply_to=mail.in_reply_to,
        references=mail.references, text=text, html=html, reply_text=reply,
        classification=classification,
        bounce_of=bounce_of(mail.message, mail.text) if bounce else None, delivery_reports=reports,
        item_refs=item_refs(mail.subject, mail.in_reply_to, mail.references, tokens,
                            mail.from_.address if mail.from_ else None),
        defects=mail.defects,
        # Raw values, topmost first: which authserv-id to trust is the itemwriter's decision.
        authentication_results=[" ".join(str(v).split())
                                for v in mail.message.get_all("Authentication-Results", failobj=[])],
    )


def _cut(text: str, limit: int, defects: list[str], what: str) -> str:
    if len(text) <= limit:
        return text
    defects.append(f"{what} cut at {limit} characters")
    return text[:limit]


def item_refs(subject: str, in_reply_to: str | None, references: list[str], tokens: ItemTokens,
              sender: str | None = None) -> list[ItemRef]:
    """The items the mail names; a recipient-bound token counts as ``bound`` only for its recipient
    (``sender``, the From angle-addr)."""
    refs = [ItemRef(number=n, signal="subject-token") for n in tokens.numbers_in_subject(subject)]
    for signal, ids in (("in-reply-to", [in_reply_to] if in_reply_to else []), ("references", references)):
        for mid in ids:
            for ref in tokens.items_in_message_id(mid, sender):
                refs.append(ItemRef(number=ref.number, signal=signal, item_type=ref.item_type,  # type: ignore[arg-type]
                                    signed=ref.valid, bound=ref.bound))
    return refs


def make_handler(store: BlobStore, tokens: ItemTokens, limits: Limits):
    def handle_mail_fetched(envelope: Envelope[Any]) -> Sequence[Envelope[Any]]:
        fetched: MailFetched = envelope.payload
        if fetched.raw.size > limits.max_message_bytes:
            raise Reject(f"message of {fetched.raw.size} bytes exceeds the limit of {limits.max_message_bytes}")
        try:
            raw = store.get(fetched.raw.key)
        except BlobNotFound:
            raise RetryLater(f"raw mail {fetched.raw.key} not in the store (yet)") from None
        except OSError as exc:
            raise RetryLater(f"blob store: {exc}") from None
        parsed = normalize(raw, fetched, store, tokens, limits)
        # Our own mail coming back (classified own-loop) goes on too: the itemwriter holds it back,
        # recorded where a person can see and release it (services/itemwriter/holds.py).
        return [envelope.follow(parsed)]

    return handle_mail_fetched
