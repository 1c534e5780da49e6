"""``postroom accounts folders NAME``: the folders an IMAP account's server has, to choose from."""

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
