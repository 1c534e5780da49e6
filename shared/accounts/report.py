"""What ``postroom accounts show`` tells about an account: configuration (never secrets), who reads
it, its health, how far each folder is read, and the mails that could not be fetched."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.accounts.progress import combined, of_cursor, progress_text
from shared.accounts.specs import NOTIFIER_FIELDS
from shared.clock import as_utc
from shared.db.models import Account, AccountHealth, FetcherLease, FetchFailure, MailboxCursor


def _iso(value: Any) -> str | None:
    moment = as_utc(value)
    return moment.isoformat(timespec="seconds") if moment else None


def account_report(session: Session, name: str) -> dict[str, Any] | None:
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        return None
    lease = session.get(FetcherLease, name)
    health = session.get(AccountHealth, name)
    cursors = session.scalars(select(MailboxCursor).where(MailboxCursor.account == name)
                              .order_by(MailboxCursor.folder)).all()
    failures = session.scalars(select(FetchFailure).where(FetchFailure.account == name)
                               .order_by(FetchFailure.last_failed_at.desc()).limit(20)).all()
    return {
        "name": account.name, "kind": account.kind, "address": account.address, "active": account.active,
        "project": account.project, "config": account.config,
        "secrets": "sealed" if account.sealed_secrets else "none",
        "reader": {"holder": lease.holder, "until": _iso(lease.expires_at)} if lease else None,
        "health": None if health is None else {
            "last_success_at": _iso(health.last_success_at), "last_error_at": _iso(health.last_error_at),
            "last_error_kind": health.last_error_kind, "last_error": health.last_error,
            "consecutive_failures": health.consecutive_failures,
            "next_attempt_at": _iso(health.next_attempt_at)},
        "folders": [{"folder": c.folder, "uidvalidity": c.uidvalidity, "last_uid": c.last_uid,
                     "released_uid": c.released_uid, "imported": c.imported, "backlog": c.backlog,
                     "archive_import": c.last_uid < c.archive_until, "updated_at": _iso(c.updated_at),
                     "progress": of_cursor(c).as_dict()}
                    for c in cursors],
        "progress": combined(of_cursor(c) for c in cursors).as_dict() if cursors else None,
        "failed_mails": [{"source_id": f.source_id, "state": f.state, "attempts": f.attempts,
                          "error": f.last_error, "last_failed_at": _iso(f.last_failed_at)} for f in failures],
    }


def render_text(report: dict[str, Any]) -> list[str]:
    lines = [f"{report['name']} ({report['kind']}, {report['address']}) project {report['project']}"
             f"{'' if report['active'] else '  [inactive]'}",
             # the notifier's settings (auto_reply_cc, smtp, templates) are rendered by render_settings
             f"  config: { {k: v for k, v in report['config'].items() if k not in NOTIFIER_FIELDS} }  "
             f"secrets: {report['secrets']}"]
    reader = report["reader"]
    lines.append(f"  read by: {reader['holder']} (lease until {reader['until']})" if reader else "  read by: nobody")
    health = report["health"]
    if health:
        lines.append(f"  last success: {health['last_success_at'] or 'never'}")
        if health["consecutive_failures"]:
            lines.append(f"  failing: {health['consecutive_failures']} in a row, last {health['last_error_kind']} "
                         f"error at {health['last_error_at']}: {health['last_error']}")
            lines.append(f"  next attempt: {health['next_attempt_at']}")
    if report["progress"] and report["progress"]["importing"]:
        lines.append(f"  import: {progress_text(report['progress'])}")
    for f in report["folders"]:
        state = "importing existing mail as archive" if f["archive_import"] else "up to date"
        if f["backlog"]:
            state = progress_text(f["progress"]) + (" (archive import)" if f["archive_import"] else "")
        lines.append(f"  {f['folder']}: {f['imported']} imported, last UID {f['last_uid']} "
                     f"(UIDVALIDITY {f['uidvalidity']}), {state}; updated {f['updated_at']}")
    for m in report["failed_mails"]:
        lines.append(f"  not fetched: {m['source_id']} {m['state']} after {m['attempts']} attempt(s): {m['error']}")
    return lines


def _flags(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={'yes' if v else 'no'}" if isinstance(v, bool) else f"{k}={'none' if v is None else repr(v)}"
                     for k, v in values.items())


def render_settings(settings: dict[str, Any]) -> list[str]:
    """What the account does with its mail (services/app/accounts.py ``effective_settings``), a line each."""
    new, replies, auto = settings["new_items"], settings["replies"], settings["auto_reply"]
    smtp = auto["smtp"]
    server = ("the default SMTP server (SMTP_*)" if smtp == "default"
              else " ".join(f"{k}={v}" for k, v in smtp.items()))
    return [
        f"  items: {new['item_type']} in project {new['project']}, creator {new['creator'] or 'none'}",
        "  field mapping: " + ", ".join(f"{to} <- {source}" for to, source in settings["field_mapping"].items()),
        "  new items: default values "
        + (", ".join(f"{k}={v!r}" for k, v in new["default_values"].items()) or "none") + "; "
        + _flags({k: v for k, v in new.items() if k not in ("item_type", "project", "creator", "default_values")}),
        f"  replies: {_flags(replies)}",
        f"  auto-reply: {'on' if auto['on'] else 'off'}"
        f"{', also in a thread of ours' if auto['same_thread'] else ', first mail of a thread only'}"
        f"{', Cc recipients too' if auto['cc'] else ''}; sent through {server}",
        "  templates: " + "; ".join(f"{kind} {'built-in' if parts == 'built-in' else 'own ' + '+'.join(parts)}"
                                    for kind, parts in settings["templates"].items()),
    ]
