"""Retention: raw mail and attachments are kept only as long as the settings say, and the fetcher's
dedup records are pruned. A blob is content-addressed and may be shared (the same attachment in two
items), so it is deleted only when no kept row refers to it any more; the rows themselves stay (the
item's history keeps the mail's text and the attachment's name, size and hash) and say the bytes
are gone. Runs as ``postroom retention run`` (a daily CronJob on Kubernetes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shared.db.models import FetchedDigest, HeldMail, Item, ItemAttachment, ItemEvent, ItemMail, Status, utcnow
from shared.store import BlobStore


@dataclass(frozen=True)
class Policy:
    raw_days: int = 0  # raw mail older than this, on any item (0: kept for ever)
    closed_days: int = 0  # raw mail and attachments of items closed and untouched this long (0: kept)
    digest_days: int = 180  # the fetcher's dedup records (0: kept)


@dataclass
class Report:
    raw_mails: int = 0  # mails whose raw bytes were let go
    attachments: int = 0  # attachments whose bytes were let go
    digests_pruned: int = 0
    items: list[int] = field(default_factory=list)  # closed items whose files went
    deletable: list[str] = field(default_factory=list)  # blobs no kept row refers to

    def lines(self) -> list[str]:
        return [f"raw mail let go: {self.raw_mails}", f"attachments let go: {self.attachments}",
                f"blobs deleted from the store: {len(self.deletable)}",
                f"fetch dedup records pruned: {self.digests_pruned}",
                f"closed items cleared: {len(self.items)}"]


def run(session: Session, policy: Policy) -> Report:
    """Let go of what the policy says, in the session's transaction; ``report.deletable`` are the blobs
    no kept row refers to. Commit, then ``delete_blobs`` (never before: a failed commit must not leave
    rows pointing at deleted bytes). A dry run rolls back instead and deletes nothing."""
    now, report = utcnow(), Report()
    released: set[str] = set()
    if policy.closed_days:
        closed = select(Status.name).where(Status.closed.is_(True))
        items = list(session.scalars(select(Item.id).where(Item.status.in_(closed),
                                                           Item.updated_at < now - timedelta(days=policy.closed_days))))
        if items:
            report.items = items
            mails = select(ItemMail.raw_key).where(ItemMail.item_id.in_(items), ItemMail.raw_key.is_not(None))
            files = select(ItemAttachment.blob_key).where(ItemAttachment.item_id.in_(items),
                                                          ItemAttachment.blob_key.is_not(None))
            raw = [k for k in session.scalars(mails) if k]
            kept_files = [k for k in session.scalars(files) if k]
            report.raw_mails, report.attachments = len(raw), len(kept_files)
            released |= {*raw, *kept_files}
            session.execute(update(ItemMail).where(ItemMail.item_id.in_(items)).values(raw_key=None))
            session.execute(update(ItemAttachment).where(ItemAttachment.item_id.in_(items)).values(blob_key=None))
            for item_id in items:
                session.add(ItemEvent(item_id=item_id, actor="postroom", action="files-removed",
                                      detail={"why": f"closed for over {policy.closed_days} days"}))
    if policy.raw_days:
        old = (ItemMail.created_at < now - timedelta(days=policy.raw_days), ItemMail.raw_key.is_not(None))
        raw = [k for k in session.scalars(select(ItemMail.raw_key).where(*old)) if k]
        report.raw_mails += len(raw)
        released |= set(raw)
        session.execute(update(ItemMail).where(*old).values(raw_key=None))
    if policy.digest_days:
        stale = FetchedDigest.fetched_at < now - timedelta(days=policy.digest_days)
        report.digests_pruned = len(session.scalars(select(FetchedDigest.sha256).where(stale)).all())
        session.execute(delete(FetchedDigest).where(stale))
    session.flush()
    report.deletable = sorted(key for key in released if not _still_used(session, key))
    return report


def delete_blobs(store: BlobStore, report: Report) -> None:
    for key in report.deletable:
        store.delete(key)


def _still_used(session: Session, key: str) -> bool:
    return bool(session.scalar(select(ItemMail.id).where(ItemMail.raw_key == key).limit(1))
                or session.scalar(select(ItemAttachment.id).where(ItemAttachment.blob_key == key).limit(1))
                or session.scalar(select(HeldMail.id).where(HeldMail.raw_key == key).limit(1)))
