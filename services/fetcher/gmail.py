"""A Gmail mailbox through the Gmail API: the messages of each configured label, raw; then UNREAD
removed or the message trashed, per the account's choice. The mailbox history id is kept per label
so a restart resumes with ``history.list``; when Google no longer has that history (404, after about
a week) the label is listed again (its unread mail only, when fetched mail is marked read). The
source id is the Gmail message id, the same under every label: INBOX and All Mail never import one
mail twice."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

from googleapiclient.errors import HttpError

from services.fetcher.apicursors import ApiCursors
from services.fetcher.apisync import Batch
from shared.mailboxes.apiconfig import ALL_MAIL, GmailConfig
from shared.mailboxes.gmail_client import execute
from shared.mailboxes.ratelimit import with_backoff
from shared.logging import get_logger

log = get_logger("postroom.fetcher.gmail")


class GmailMailSource:
    source = "gmail"

    def __init__(self, service: Any, config: GmailConfig, cursors: ApiCursors,
                 sleep: Callable[[float], bool] = lambda s: False) -> None:
        self.api, self.config, self.cursors, self._sleep = service.users(), config, cursors, sleep

    def _run(self, request: Callable[[], Any]) -> Any:
        return with_backoff(lambda: execute(request()), self._sleep)

    def folders(self) -> list[tuple[str, str]]:
        """(label id, name) of every label: the folder list offered for ``labels``."""
        labels = self._run(lambda: self.api.labels().list(userId="me"))["labels"]
        return [(label["id"], label["name"]) for label in labels]

    def _listed(self, label: str, unread_only: bool = False) -> Iterator[str]:
        token = None
        labels = ([] if label == ALL_MAIL else [label]) + (["UNREAD"] if unread_only else [])
        while True:
            page = self._run(lambda: self.api.messages().list(userId="me", labelIds=labels, pageToken=token,
                                                              maxResults=self.config.batch_size))
            yield from (m["id"] for m in page.get("messages", []))
            if not (token := page.get("nextPageToken")):
                return

    def _added(self, label: str, start: str) -> tuple[list[str], str]:
        ids: list[str] = []
        token, latest = None, start
        while True:
            kwargs = {} if label == ALL_MAIL else {"labelId": label}
            page = self._run(lambda: self.api.history().list(userId="me", startHistoryId=start, pageToken=token,
                                                             historyTypes=["messageAdded"], **kwargs))
            for entry in page.get("history", []):
                ids.extend(a["message"]["id"] for a in entry.get("messagesAdded", []))
            latest = page.get("historyId", latest)
            if not (token := page.get("nextPageToken")):
                return list(dict.fromkeys(ids)), latest

    def _work(self, label: str) -> tuple[list[str], str, bool]:
        """(message ids, history id to store once they are done, first import?)"""
        start = self.cursors.get(label)
        if start is not None:
            try:
                ids, latest = self._added(label, start)
                return ids, latest, False
            except HttpError as exc:
                if int(exc.resp.status) != 404:
                    raise
                log.warning("gmail history expired; listing the label again", label=label)
        # The history id first: whatever arrives while we list is in the history after it.
        latest = str(self._run(lambda: self.api.getProfile(userId="me"))["historyId"])
        if start is None and self.config.existing_mail == "skip":
            return [], latest, True
        # Listed again after a gap: what we marked read is done; the rest (and with another
        # after-fetch action, everything) comes again, one message downstream per source id.
        again = start is not None and self.config.after_fetch == "mark_read"
        return list(self._listed(label, unread_only=again)), latest, start is None

    def batches(self) -> Iterator[Batch]:
        seen: set[str] = set()
        for label in self.config.labels:
            ids, latest, first = self._work(label)
            ids = [i for i in ids if i not in seen]
            seen.update(ids)
            chunks = [ids[i:i + self.config.batch_size] for i in range(0, len(ids), self.config.batch_size)] or [[]]
            for n, chunk in enumerate(chunks):
                self._next = (label, latest if n == len(chunks) - 1 else None)
                yield Batch([(i, self._raw(i)) for i in chunk],
                            archive=first and self.config.existing_mail == "archive")

    def _raw(self, message_id: str) -> bytes:
        answer = self._run(lambda: self.api.messages().get(userId="me", id=message_id, format="raw"))
        return base64.urlsafe_b64decode(answer["raw"] + "=" * (-len(answer["raw"]) % 4))

    def release(self, batch: Batch, source_ids: list[str], complete: bool) -> None:
        if batch.archive:  # mail imported as archive stays in the mailbox as it was
            source_ids = []
        if source_ids and self.config.after_fetch == "mark_read":
            self._run(lambda: self.api.messages().batchModify(
                userId="me", body={"ids": source_ids, "removeLabelIds": ["UNREAD"]}))
        elif self.config.after_fetch == "trash":
            for message_id in source_ids:
                self._run(lambda: self.api.messages().trash(userId="me", id=message_id))
        label, latest = self._next
        if complete and latest is not None:
            self.cursors.put(label, latest)
