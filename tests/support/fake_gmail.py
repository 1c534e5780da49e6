"""The Gmail API endpoints Postroom uses, as a small HTTP server in the test process: labels (with each
label's count), the profile (with the mailbox's history id), messages listed by label (paged), a
message raw, batchModify, trash, and history.list (``messagesAdded`` since a start history id; 404
once that history is gone, as Google answers after about a week). A token it does not know gets 401,
as Google answers an expired or revoked one; during a throttled spell every request gets 429 with the
seconds left in Retry-After. Every request's method, path and arrival time (monotonic) are recorded."""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.oauth_servers import serve

Answer = tuple[int, bytes] | tuple[int, bytes, dict[str, str]]


@dataclass
class FakeGmail:
    labels: dict[str, str] = field(default_factory=lambda: {"INBOX": "INBOX", "Label_3": "Support"})
    counts: dict[str, int] = field(default_factory=dict)  # label id -> messages under it (else counted)
    valid_tokens: set[str] = field(default_factory=set)
    tokens_seen: list[str] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {raw, labels}
    history: list[tuple[int, str]] = field(default_factory=list)  # (history id, message id added)
    history_id: int = 100  # the mailbox's current history id
    oldest_history: int = 0  # a startHistoryId below this is answered 404
    page_size: int = 2
    log: list[tuple[str, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    throttled_until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        """The server and the API root to set as the account's ``base_url``."""
        server, base = serve(lambda method, path, body, headers: self.route(
            method, path, str(headers.get("Authorization", "")).removeprefix("Bearer "), body))
        return server, f"{base}/"

    def deliver(self, message_id: str, raw: bytes, labels: tuple[str, ...] = ("INBOX", "UNREAD")) -> None:
        with self._lock:
            self.history_id += 1
            self.messages[message_id] = {"raw": raw, "labels": set(labels)}
            self.history.append((self.history_id, message_id))

    def forget_history(self) -> None:
        """Google no longer has the history before now: older start ids get 404."""
        self.oldest_history = self.history_id

    def throttle_for(self, seconds: float) -> None:
        self.throttled_until = time.monotonic() + seconds

    def route(self, method: str, path: str, token: str, body: bytes = b"") -> Answer:
        with self._lock:
            self.log.append((method, path))
            self.times.append(time.monotonic())
            answer = self._route(method, path, token, body)
            self.statuses.append(answer[0])
            return answer

    def _route(self, method: str, path: str, token: str, body: bytes) -> Answer:
        self.tokens_seen.append(token)
        if (left := self.throttled_until - time.monotonic()) > 0:
            return 429, _json({"error": {"code": 429, "message": "Too many concurrent requests for user",
                                         "status": "RESOURCE_EXHAUSTED"}}), {"Retry-After": str(math.ceil(left))}
        if token not in self.valid_tokens:
            return 401, _json({"error": {"code": 401, "message": "Invalid Credentials", "status": "UNAUTHENTICATED"}})
        url = urlparse(path)
        query = parse_qs(url.query)
        path = url.path
        if path == "/gmail/v1/users/me/labels":
            return 200, _json({"labels": [{"id": i, "name": n, "type": "user"} for i, n in self.labels.items()]})
        if m := re.fullmatch(r"/gmail/v1/users/me/labels/([^/]+)", path):
            if m.group(1) not in self.labels:
                return _not_found()
            return 200, _json({"id": m.group(1), "name": self.labels[m.group(1)],
                               "messagesTotal": self._count(m.group(1))})
        if path == "/gmail/v1/users/me/profile":
            total = sum(self.counts.values()) if self.counts else len(self.messages)
            return 200, _json({"emailAddress": "me@example.com", "messagesTotal": total,
                               "historyId": str(self.history_id)})
        if path == "/gmail/v1/users/me/messages" and method == "GET":
            return self._list(query)
        if path == "/gmail/v1/users/me/messages/batchModify" and method == "POST":
            change = json.loads(body or b"{}")
            for message_id in change.get("ids", []):
                if message_id in self.messages:
                    self.messages[message_id]["labels"] -= set(change.get("removeLabelIds", []))
                    self.messages[message_id]["labels"] |= set(change.get("addLabelIds", []))
            return 204, b""
        if (m := re.fullmatch(r"/gmail/v1/users/me/messages/([^/]+)/trash", path)) and method == "POST":
            if m.group(1) not in self.messages:
                return _not_found()
            self.messages[m.group(1)]["labels"] = {"TRASH"}
            return 200, _json({"id": m.group(1)})
        if m := re.fullmatch(r"/gmail/v1/users/me/messages/([^/]+)", path):
            if m.group(1) not in self.messages:
                return _not_found()
            raw = base64.urlsafe_b64encode(self.messages[m.group(1)]["raw"]).decode().rstrip("=")
            return 200, _json({"id": m.group(1), "raw": raw})
        if path == "/gmail/v1/users/me/history":
            return self._history(query)
        return 404, _json({"error": {"code": 404, "message": path}})

    def _count(self, label: str) -> int:
        return self.counts.get(label, sum(1 for m in self.messages.values() if label in m["labels"]))

    def _visible(self, message_id: str, wanted: list[str]) -> bool:
        labels = self.messages[message_id]["labels"]
        return "TRASH" not in labels and "SPAM" not in labels and set(wanted) <= labels

    def _list(self, query: dict[str, list[str]]) -> Answer:
        wanted = query.get("labelIds", [])  # every one of them (Gmail: "only messages with all these")
        size = int(query["maxResults"][0]) if query.get("maxResults") else self.page_size
        start = int((query.get("pageToken") or ["0"])[0])
        ids = [i for i in reversed(self.messages) if self._visible(i, wanted)]  # newest first, as Gmail
        page = ids[start:start + min(size, self.page_size)]
        answer: dict[str, Any] = {"messages": [{"id": i, "threadId": i} for i in page], "resultSizeEstimate": len(ids)}
        if start + len(page) < len(ids):
            answer["nextPageToken"] = str(start + len(page))
        return 200, _json(answer)

    def _history(self, query: dict[str, list[str]]) -> Answer:
        begin = int(query["startHistoryId"][0])
        if begin < self.oldest_history:
            return _not_found()
        label = query["labelId"][0] if query.get("labelId") else None
        start = int((query.get("pageToken") or ["0"])[0])
        entries = [(h, i) for h, i in self.history
                   if h > begin and i in self.messages and (label is None or label in self.messages[i]["labels"])]
        page = entries[start:start + self.page_size]
        answer: dict[str, Any] = {"history": [{"id": str(h), "messagesAdded": [
            {"message": {"id": i, "labelIds": sorted(self.messages[i]["labels"])}}]} for h, i in page],
            "historyId": str(self.history_id)}
        if start + len(page) < len(entries):
            answer["nextPageToken"] = str(start + len(page))
        return 200, _json(answer)


def _not_found() -> Answer:
    return 404, _json({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}})


def _json(body: object) -> bytes:
    return json.dumps(body).encode()
