"""``postroom accounts folders NAME`` (and the console's folder choice): the folders an account's
mailbox has, each with the value its folder setting takes (``id``), how people name it (``path``),
and whether it is the one read. IMAP: the server's folder names (id and path alike) with their flags;
Graph: every folder by id with its path, subfolders included; Gmail: the labels by id with their names.
And whether the IMAP folders an account names (``folder``, ``move_to``) are on its server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from shared.mailboxes.apiconfig import ALL_MAIL, GmailConfig, GraphConfig
from shared.mailboxes.gmail_client import execute, gmail_service
from shared.mailboxes.graph_client import GraphClient
from shared.mailboxes.graph_folders import WELL_KNOWN, list_folders, match_folder, well_known_id
from shared.mailboxes.imap import ClientFactory, close_quietly, default_factory, open_imap
from shared.mailboxes.mailconfig import ImapConfig


@dataclass(frozen=True)
class FolderChoice:
    id: str  # what ``folder`` (Graph, IMAP) or ``labels`` (Gmail) takes
    path: str  # "Inbox/Support"; a Gmail label's name
    selected: bool  # the account reads it
    flags: tuple[str, ...] = ()  # IMAP: \\Noselect, \\Sent, ...

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"flags": list(self.flags)}

    def line(self) -> str:
        """One line of the CLI's list: "* PATH  [flags]  (id)", the one read marked '*'."""
        text = f"{'*' if self.selected else ' '} {self.path}"
        if self.flags:
            text += f"  [{' '.join(self.flags)}]"
        return text + (f"  ({self.id})" if self.id != self.path else "")


def imap_folders(config: dict[str, Any], password: str, factory: ClientFactory = default_factory,
                 token: Callable[[], str] | None = None) -> list[FolderChoice]:
    imap = ImapConfig.model_validate(config)
    client = open_imap(imap, password, factory, token)
    try:
        found = client.list_folders()
    finally:
        close_quietly(client)
    return [FolderChoice(name, name, name == imap.folder,
                         tuple(f.decode() if isinstance(f, bytes) else str(f) for f in flags))
            for flags, _delimiter, name in sorted(found, key=lambda f: f[2])]


def graph_folders(config: dict[str, Any], token: Callable[[bool], str]) -> list[FolderChoice]:
    graph = GraphConfig.model_validate(config)
    client = GraphClient(token, graph.base_url)
    folders = list_folders(client, graph.mailbox)
    if graph.folder.lower() in WELL_KNOWN:
        selected = well_known_id(client, graph.mailbox, graph.folder.lower())
    else:
        match = match_folder(folders, graph.folder)
        selected = match.id if match else ""
    return [FolderChoice(f.id, f.path, f.id == selected) for f in folders]


def gmail_labels(config: dict[str, Any], token: Callable[[bool], str]) -> list[FolderChoice]:
    gmail = GmailConfig.model_validate(config)
    users = gmail_service(token, base_url=gmail.base_url).users()
    labels = execute(users.labels().list(userId="me")).get("labels", [])
    choices = [FolderChoice(str(label["id"]), str(label.get("name", label["id"])), label["id"] in gmail.labels)
               for label in labels]
    return ([FolderChoice(ALL_MAIL, "All Mail (everything but spam and trash)", ALL_MAIL in gmail.labels)]
            + sorted(choices, key=lambda c: c.path.lower()))


def folder_names(imap: ImapConfig, password: str, factory: ClientFactory = default_factory) -> list[str]:
    """The names of every folder on the server, sorted."""
    client = open_imap(imap, password, factory)
    try:
        return sorted(name for _flags, _delimiter, name in client.list_folders())
    finally:
        close_quietly(client)


def named_folders(imap: ImapConfig) -> dict[str, str]:
    """The folders the account names that a server may lack, by the setting that names them; INBOX
    always exists (RFC 3501 5.1)."""
    named = {"folder": imap.folder, "move_to": imap.move_to if imap.after_fetch == "move" else None}
    return {key: name for key, name in named.items() if name and name.upper() != "INBOX"}
