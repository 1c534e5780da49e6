"""A Microsoft 365 mailbox (own or shared) through the Graph mail API: delta query over one folder
(a restart resumes from the stored delta or next link), the MIME content of each new message, then
mark read / move / delete per the account's choice.

The folder (and ``move_to``) may be set as a well-known name, a path ("Inbox/Support") or an id; a path
is resolved to its id once and the id kept in the cursor with the delta link, so a folder renamed
later is still the one read.

The delta reports our own changes (a message we marked read) as changes in the next round: the ids
released in the current and the previous round are skipped, so a mail is fetched once; a mail a
person changes later may come again and is then one message downstream (its id derives from the
Graph id, which is immutable: ``Prefer: IdType="ImmutableId"``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from urllib.parse import quote

from services.fetcher.apicursors import ApiCursors
from services.fetcher.apisync import Batch
from shared.mailboxes.apiconfig import GraphConfig
from shared.mailboxes.graph_client import GraphClient
from shared.mailboxes.graph_folders import GraphFolder, list_folders, resolve_folder
from shared.mailboxes.ratelimit import with_backoff


class GraphMailSource:
    source = "graph"

    def __init__(self, client: GraphClient, config: GraphConfig, cursors: ApiCursors,
                 sleep: Callable[[float], bool] = lambda s: False) -> None:
        self.client, self.config, self.cursors, self._sleep = client, config, cursors, sleep
        self._user = f"/users/{quote(config.mailbox)}"
        self._move_id: str | None = None  # move_to resolved, once per session

    def folders(self) -> list[GraphFolder]:
        return with_backoff(lambda: list_folders(self.client, self.config.mailbox), self._sleep)

    def _resolve(self, setting: str) -> str:
        return with_backoff(lambda: resolve_folder(self.client, self.config.mailbox, setting), self._sleep)

    def _state(self) -> dict[str, object]:
        stored = self.cursors.get(self.config.folder)
        return json.loads(stored) if stored else {}

    def batches(self) -> Iterator[Batch]:
        state = self._state()
        first_round = not state.get("link")
        self._folder_id = str(state.get("folder_id") or self._resolve(self.config.folder))
        if self.config.move_to and self._move_id is None:
            self._move_id = self._resolve(self.config.move_to)
        link = state.get("link") or (f"{self._user}/mailFolders/{quote(self._folder_id)}/messages/delta"
                                     f"?$select=id,isRead")
        skip = set(state.get("previous", [])) | set(state.get("current", []))  # type: ignore[arg-type]
        self._pending = {"previous": list(state.get("previous", [])), "current": list(state.get("current", []))}
        while link:
            prefer = {"Prefer": f"odata.maxpagesize={self.config.batch_size}"}
            page = with_backoff(lambda: self.client.json("GET", str(link), headers=prefer), self._sleep)
            skip.update(self._pending["current"])  # our own changes may show up while we page
            ids = list(dict.fromkeys(m["id"] for m in page.get("value", [])
                                     if "@removed" not in m and m["id"] not in skip))
            next_link, delta_link = page.get("@odata.nextLink"), page.get("@odata.deltaLink")
            if first_round and self.config.existing_mail == "skip":
                ids = []  # the first round only lists what was there before us
            mails = [(i, self._mime(i)) for i in ids]
            self._next = {"link": next_link or delta_link, "done": delta_link is not None}
            yield Batch(mails, archive=first_round and self.config.existing_mail == "archive")
            link = next_link

    def _mime(self, message_id: str) -> bytes:
        path = f"{self._user}/messages/{quote(message_id)}/$value"
        return with_backoff(lambda: self.client.request("GET", path).content, self._sleep)

    def release(self, batch: Batch, source_ids: list[str], complete: bool) -> None:
        # Mail imported as archive stays in the mailbox as it was until the operator decides.
        for message_id in [] if batch.archive else source_ids:
            path = f"{self._user}/messages/{quote(message_id)}"
            action = self.config.after_fetch
            if action == "mark_read":
                with_backoff(lambda: self.client.request("PATCH", path, json={"isRead": True}), self._sleep)
            elif action == "move":
                with_backoff(lambda: self.client.request("POST", f"{path}/move",
                                                         json={"destinationId": self._move_id}), self._sleep)
            elif action == "delete":
                with_backoff(lambda: self.client.request("DELETE", path), self._sleep)
        self._pending["current"].extend(source_ids)
        if complete:
            if self._next["done"]:  # a round ends: what this round released is skipped once more
                self._pending = {"previous": self._pending["current"], "current": []}
            self.cursors.put(self.config.folder, json.dumps({"link": self._next["link"], "folder_id": self._folder_id,
                                                             **self._pending}))
