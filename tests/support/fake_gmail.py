"""The Gmail API's label and profile endpoints as a small HTTP server in the test process: what
``postroom accounts test`` reads (labels, each label's message count, the mailbox's total). A token
it does not know gets 401, as Google answers an expired or revoked one."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

from tests.support.oauth_servers import serve


@dataclass
class FakeGmail:
    labels: dict[str, str] = field(default_factory=lambda: {"INBOX": "INBOX", "Label_3": "Support"})
    counts: dict[str, int] = field(default_factory=dict)  # label id -> messages under it
    valid_tokens: set[str] = field(default_factory=set)
    tokens_seen: list[str] = field(default_factory=list)

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        """The server and the API root to set as the account's ``base_url``."""
        server, base = serve(lambda method, path, body, headers: self.route(
            method, path, str(headers.get("Authorization", "")).removeprefix("Bearer ")))
        return server, f"{base}/"

    def route(self, method: str, path: str, token: str) -> tuple[int, bytes]:
        self.tokens_seen.append(token)
        if token not in self.valid_tokens:
            return 401, _json({"error": {"code": 401, "message": "Invalid Credentials", "status": "UNAUTHENTICATED"}})
        path = path.split("?")[0]
        if path == "/gmail/v1/users/me/labels":
            return 200, _json({"labels": [{"id": i, "name": n, "type": "user"} for i, n in self.labels.items()]})
        if m := re.fullmatch(r"/gmail/v1/users/me/labels/([^/]+)", path):
            if m.group(1) not in self.labels:
                return 404, _json({"error": {"code": 404, "message": "Requested entity was not found."}})
            return 200, _json({"id": m.group(1), "name": self.labels[m.group(1)],
                               "messagesTotal": self.counts.get(m.group(1), 0)})
        if path == "/gmail/v1/users/me/profile":
            return 200, _json({"emailAddress": "me@example.com", "messagesTotal": sum(self.counts.values()),
                               "historyId": "1"})
        return 404, _json({"error": {"code": 404, "message": path}})


def _json(body: object) -> bytes:
    return json.dumps(body).encode()
