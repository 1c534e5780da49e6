"""What ``postroom accounts show`` tells about an account: configuration (never secrets), who reads
it, its health, how far each folder is read, and the mails that could not be fetched."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.accounts.progress import combined, of_cursor, progress_text
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
             f"  config: {report['config']}  secrets: {report['secrets']}"]
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
