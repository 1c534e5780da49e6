"""``postroom accounts folders NAME``: the folders an IMAP account's server has, to choose from; and
whether the folders an account names (``folder``, ``move_to``) are among them."""

from __future__ import annotations

from typing import Any

from shared.mailboxes.imap import ClientFactory, close_quietly, default_factory, open_imap
from shared.mailboxes.mailconfig import ImapConfig


def list_folders(config: dict[str, Any], password: str, factory: ClientFactory = default_factory) -> list[str]:
    """Each folder as "NAME [flags]", the configured one marked with '*'."""
    imap = ImapConfig.model_validate(config)
    client = open_imap(imap, password, factory)
    try:
        found = client.list_folders()
    finally:
        close_quietly(client)
    lines = []
    for flags, _delimiter, name in sorted(found, key=lambda f: f[2]):
        marks = " ".join(f.decode() if isinstance(f, bytes) else str(f) for f in flags)
        lines.append(f"{'*' if name == imap.folder else ' '} {name}" + (f"  [{marks}]" if marks else ""))
    return lines


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
