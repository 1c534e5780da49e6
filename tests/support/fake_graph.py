"""The Microsoft Graph mail endpoints the fetcher uses, as a small HTTP server in the test process:
the folder tree (top level and childFolders, paged with @odata.nextLink), delta over a folder (pages,
deltaLink, @removed), $value MIME content, PATCH isRead, move, DELETE, and on demand a 401 (stale
token), a queued fault (a 429 with Retry-After, an error JSON), or a throttled spell during which
every request gets 429 with the seconds left in Retry-After, as Graph answers a client that ignores it.
Every request's method, path and arrival time (monotonic) are recorded."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


@dataclass(frozen=True)
class FakeFolder:
    id: str
    name: str
    parent: str | None = None  # the parent folder's id; None at the top level


def _default_folders() -> dict[str, FakeFolder]:
    # The well-known folders answer under their well-known name as their id (real ids are opaque).
    return {"inbox": FakeFolder("inbox", "Inbox"), "archive": FakeFolder("archive", "Archive")}


@dataclass
class FakeMailbox:
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {raw, isRead, folder}
    changes: list[str] = field(default_factory=list)  # ids in change order, repeated per change
    log: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request
    times: list[float] = field(default_factory=list)  # time.monotonic() of every request, as log
    statuses: list[int] = field(default_factory=list)  # the status answered to every request, as log
    tokens_seen: list[str] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=set)
    faults: deque[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=deque)
    folders: dict[str, FakeFolder] = field(default_factory=_default_folders)
    page_size: int = 2
    folder_page_size: int = 2
    throttled_until: float = 0.0  # time.monotonic() before which every request gets 429

    def add_folder(self, name: str, parent: str | None = None) -> str:
        """A folder under ``parent`` (an id; None: the top level); its opaque id."""
        folder_id = f"AAMkAD{len(self.folders):04d}{name.encode().hex()}="
        self.folders[folder_id] = FakeFolder(folder_id, name, parent)
        return folder_id

    def throttle_for(self, seconds: float) -> None:
        self.throttled_until = time.monotonic() + seconds

    def deliver(self, message_id: str, raw: bytes, folder: str = "inbox") -> None:
        self.messages[message_id] = {"raw": raw, "isRead": False, "folder": folder}
        self._changed(message_id)

    def _changed(self, message_id: str) -> None:
        self.changes.append(message_id)  # append-only: a delta link is a position in this log


def serve_graph(mailbox: FakeMailbox) -> tuple[ThreadingHTTPServer, str]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
            mailbox.statuses.append(status)
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            with lock:
                mailbox.log.append((method, self.path))
                mailbox.times.append(time.monotonic())
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                mailbox.tokens_seen.append(token)
                if (left := mailbox.throttled_until - time.monotonic()) > 0:
                    return self._answer(429, {"error": {"code": "ApplicationThrottled", "message": "slow down"}},
                                        {"Retry-After": str(math.ceil(left))})
                if token not in mailbox.valid_tokens:
                    return self._answer(401, {"error": {"code": "InvalidAuthenticationToken", "message": "expired"}})
                if mailbox.faults:
                    status, headers, body = mailbox.faults.popleft()
                    return self._answer(status, body, headers)
                length = int(self.headers.get("Content-Length", 0) or 0)
                payload = json.loads(self.rfile.read(length)) if length else {}
                url = urlparse(self.path)
                self._route(method, url._replace(path=unquote(url.path)), payload)

        def _route(self, method: str, url: Any, payload: dict[str, Any]) -> None:
            base = f"http://{self.headers['Host']}/v1.0"
            if m := re.fullmatch(r"/v1\.0/users/[^/]+/mailFolders/([^/]+)/messages/delta", url.path):
                start = int(parse_qs(url.query).get("from", ["0"])[0])
                folder = m.group(1)
                page = mailbox.changes[start:start + mailbox.page_size]
                value = []
                for mid in page:
                    msg = mailbox.messages.get(mid)
                    if msg is None or msg["folder"] != folder:
                        value.append({"id": mid, "@removed": {"reason": "deleted"}})
                    else:
                        value.append({"id": mid, "isRead": msg["isRead"]})
                end = start + len(page)
                link = f"{base}/users/x/mailFolders/{folder}/messages/delta?from={end}"
                more = end < len(mailbox.changes)
                return self._answer(200, {"value": value, ("@odata.nextLink" if more else "@odata.deltaLink"): link})
            if m := re.fullmatch(r"/v1\.0/users/[^/]+/messages/([^/]+)/\$value", url.path):
                msg = mailbox.messages.get(m.group(1))
                return self._answer(200, msg["raw"]) if msg else self._answer(404, {"error": {"code": "ErrorItemNotFound"}})
            if m := re.fullmatch(r"/v1\.0/users/[^/]+/messages/([^/]+)(/move)?", url.path):
                mid, msg = m.group(1), mailbox.messages.get(m.group(1))
                if msg is None:
                    return self._answer(404, {"error": {"code": "ErrorItemNotFound", "message": "gone"}})
                if method == "PATCH":
                    msg["isRead"] = bool(payload.get("isRead"))
                elif method == "POST":
                    msg["folder"] = payload["destinationId"]
                elif method == "DELETE":
                    del mailbox.messages[mid]
                mailbox._changed(mid)
                return self._answer(204 if method == "DELETE" else 200, {"id": mid})
            if m := re.fullmatch(r"/v1\.0/users/[^/]+/mailFolders/([^/]+)/childFolders", url.path):
                if m.group(1) not in mailbox.folders:
                    return self._answer(404, {"error": {"code": "ErrorItemNotFound", "message": "no folder"}})
                return self._folders(url, m.group(1))
            if m := re.fullmatch(r"/v1\.0/users/[^/]+/mailFolders/([^/]+)", url.path):
                if m.group(1) not in mailbox.folders:
                    return self._answer(404, {"error": {"code": "ErrorItemNotFound", "message": "no folder"}})
                return self._answer(200, self._folder(mailbox.folders[m.group(1)]))
            if re.fullmatch(r"/v1\.0/users/[^/]+/mailFolders", url.path):
                return self._folders(url, None)
            return self._answer(404, {"error": {"code": "NotFound", "message": url.path}})

        def _folder(self, folder: FakeFolder) -> dict[str, Any]:
            return {"id": folder.id, "displayName": folder.name, "parentFolderId": folder.parent,
                    "childFolderCount": sum(1 for f in mailbox.folders.values() if f.parent == folder.id),
                    "totalItemCount": sum(1 for msg in mailbox.messages.values() if msg["folder"] == folder.id)}

        def _folders(self, url: Any, parent: str | None) -> None:
            """One level of the tree, ``folder_page_size`` a page, the rest behind @odata.nextLink."""
            skip = int(parse_qs(url.query).get("$skip", ["0"])[0])
            level = [f for f in mailbox.folders.values() if f.parent == parent]
            page = level[skip:skip + mailbox.folder_page_size]
            answer: dict[str, Any] = {"value": [self._folder(f) for f in page]}
            if skip + len(page) < len(level):
                answer["@odata.nextLink"] = f"http://{self.headers['Host']}{url.path}?$skip={skip + len(page)}"
            return self._answer(200, answer)

        def do_GET(self) -> None:  # noqa: N802
            self._handle("GET")

        def do_PATCH(self) -> None:  # noqa: N802
            self._handle("PATCH")

        def do_POST(self) -> None:  # noqa: N802
            self._handle("POST")

        def do_DELETE(self) -> None:  # noqa: N802
            self._handle("DELETE")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1.0"
