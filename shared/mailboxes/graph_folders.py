"""A Graph mailbox's folders by id with their path ("Inbox/Support"), subfolders included, and a folder
setting (a well-known name, a path or an id) resolved to the folder id the Graph endpoints take.

Graph lists one level at a time: ``/mailFolders`` gives the top level, ``/mailFolders/{id}/childFolders``
the next, each paged with ``@odata.nextLink``; ``childFolderCount`` says which folders have children,
so a leaf costs no request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from shared.mailboxes.graph_client import GraphClient

# Graph's well-known folder names: accepted wherever a folder id is (no listing needed).
WELL_KNOWN = frozenset({"inbox", "archive", "deleteditems", "drafts", "junkemail", "outbox", "sentitems",
                        "clutter", "conversationhistory", "msgfolderroot", "recoverableitemsdeletions",
                        "scheduled", "searchfolders", "serverfailures", "syncissues"})
_SELECT = "$top=100&$select=id,displayName,childFolderCount,totalItemCount"
MAX_DEPTH = 10  # a folder tree deeper than this is not a mailbox people read from


@dataclass(frozen=True)
class GraphFolder:
    id: str
    path: str  # display names from the top joined with "/"
    total: int  # messages in the folder itself


class UnknownFolder(LookupError):
    """The setting names no folder of the mailbox (neither a well-known name, a path nor an id)."""


def _pages(client: GraphClient, path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    link: str | None = path
    while link:
        page = client.json("GET", link)
        found.extend(page.get("value", []))
        link = page.get("@odata.nextLink")
    return found


def list_folders(client: GraphClient, mailbox: str) -> list[GraphFolder]:
    """Every folder of ``mailbox`` (top level first, each followed by its subfolders), with its path."""
    user = f"/users/{quote(mailbox)}"
    out: list[GraphFolder] = []

    def walk(path: str, prefix: str, depth: int) -> None:
        for entry in _pages(client, path):
            folder_id, name = str(entry["id"]), str(entry.get("displayName", ""))
            full = f"{prefix}/{name}" if prefix else name
            out.append(GraphFolder(folder_id, full, int(entry.get("totalItemCount", 0) or 0)))
            if int(entry.get("childFolderCount", 0) or 0) and depth < MAX_DEPTH:
                walk(f"{user}/mailFolders/{quote(folder_id)}/childFolders?{_SELECT}", full, depth + 1)

    walk(f"{user}/mailFolders?{_SELECT}", "", 0)
    return out


def match_folder(folders: list[GraphFolder], setting: str) -> GraphFolder | None:
    """The listed folder a setting names: by id, else by path (case-insensitive, slashes trimmed)."""
    wanted = setting.strip("/").lower()
    return (next((f for f in folders if f.id == setting), None)
            or next((f for f in folders if f.path.lower() == wanted), None))


def resolve_folder(client: GraphClient, mailbox: str, setting: str) -> str:
    """The folder id for a setting: a well-known name as it is (Graph takes it), else the folder whose
    id or path ("Inbox/Support") it is; ``UnknownFolder`` when there is none."""
    if setting.lower() in WELL_KNOWN:
        return setting.lower()
    found = match_folder(list_folders(client, mailbox), setting)
    if found is None:
        raise UnknownFolder(f"mailbox {mailbox} has no folder {setting!r} (a path such as Inbox/Support, a folder "
                            "id, or a well-known name such as inbox): postroom accounts folders NAME lists them")
    return found.id


def well_known_id(client: GraphClient, mailbox: str, name: str) -> str:
    """The id behind a well-known name (``inbox``): Graph answers the folder under either."""
    return str(client.json("GET", f"/users/{quote(mailbox)}/mailFolders/{quote(name)}?$select=id")["id"])
