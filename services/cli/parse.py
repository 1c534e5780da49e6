"""``postroom parse FILE... [--json]``: what the parser would publish for each mail file.

Needs no broker, database or blob store: attachments are described but not saved (``blob: null``).
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from shared.contracts import BlobRef, MailFetched, MailParsed
from shared.errors import Reject


def parse_file(path: Path) -> MailParsed:
    """The normalized message for one file; ``Reject`` when a limit refuses it."""
    return parse_raw(path.read_bytes(), str(path))


def parse_raw(raw: bytes, source_id: str = "stdin") -> MailParsed:
    from services.parser.handlers import normalize
    from services.parser.settings import ParserSettings

    # A look at a file, not a service: nothing is signed here and no token is trusted for anything,
    # so no real token secret is required (with the built-in one, our tokens show as unsigned).
    settings = ParserSettings(dev_mode=True)
    digest = hashlib.sha256(raw).hexdigest()
    fetched = MailFetched(account="cli", source="file", source_id=source_id, received_at=datetime.now(UTC),
                          raw=BlobRef(key=digest, size=len(raw), sha256=digest))
    tokens = settings.item_tokens()
    return normalize(raw, fetched, None, tokens, settings.limits)


@click.command("parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file and line: "
              '{"file", "message"} or {"file", "rejected"}.')
def parse_command(files: tuple[Path, ...], as_json: bool) -> None:
    """Parse mail files (.eml) and print the normalized message of each."""
    failed = False
    for path in files:
        try:
            parsed = parse_file(path)
        except Reject as exc:
            failed = True
            _emit(as_json, {"file": str(path), "rejected": str(exc)}, f"{path}: rejected: {exc}")
            continue
        except OSError as exc:
            failed = True
            _emit(as_json, {"file": str(path), "error": str(exc)}, f"{path}: cannot read: {exc}")
            continue
        if as_json:
            message = json.loads(parsed.model_dump_json(by_alias=True))
            click.echo(json.dumps({"file": str(path), "message": message}, ensure_ascii=False))
        else:
            click.echo(describe(path, parsed))
    if failed:
        sys.exit(1)


def _emit(as_json: bool, data: dict[str, str], line: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False) if as_json else line, err=not as_json)


def describe(path: Path, mail: MailParsed) -> str:
    """The message for a person: headers, classification, attachments, defects, then the text."""
    def people(addresses: list) -> str:  # type: ignore[type-arg]
        return ", ".join(a.formatted() for a in addresses) or "-"

    kind = mail.classification.kind + (f" ({mail.classification.reason})" if mail.classification.reason else "")
    lines = [f"== {path}", f"Subject:     {mail.subject}",
             f"From:        {mail.from_.formatted() if mail.from_ else '-'}",
             f"Reply-To:    {people(mail.reply_to)}", f"To:          {people(mail.to)}",
             f"Cc:          {people(mail.cc)}",
             f"Date:        {mail.date.isoformat() if mail.date else '-'}", f"Message-ID:  {mail.message_id or '-'}",
             f"In-Reply-To: {mail.in_reply_to or '-'}", f"References:  {' '.join(mail.references) or '-'}",
             f"Kind:        {kind}"]
    if mail.bounce_of:
        lines.append(f"Bounce of:   {mail.bounce_of}")
    lines.extend(f"Report:      {r.final_recipient} {r.action or '?'} {r.status or '-'}" for r in mail.delivery_reports)
    if mail.item_refs:
        lines.append("Items:       " + ", ".join(f"#{r.number} ({r.signal})" for r in mail.item_refs))
    lines.append(f"HTML:        {'yes, ' + str(len(mail.html)) + ' characters, sanitized' if mail.html else 'no'}")
    for a in mail.attachments:
        flags = " inline" if a.inline else ""
        lines.append(f"Attachment:  {a.filename} ({a.content_type}, {a.size} bytes{flags}) sha256 {a.sha256[:16]}…")
    lines.extend(f"Defect:      {d}" for d in mail.defects)
    lines += ["", mail.text]
    if mail.reply_text is not None and mail.reply_text != mail.text.strip():
        lines += ["", "-- reply text (no quote, no signature) --", mail.reply_text]
    return "\n".join(lines) + "\n"
