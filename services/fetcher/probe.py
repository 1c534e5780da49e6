"""``postroom accounts test NAME``: connect and log in the way the fetcher does (its adapters, its
error classification), then say what is there, or exactly which step failed and why.

The fetcher's classification has one "network" kind (it decides a back-off); a person fixing a
setting needs to know whether the name did not resolve (DNS) or nothing answered (TCP).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.fetcher.dropfolder import ready_files
from services.fetcher.failures import classify
from services.fetcher.imap import ClientFactory, close_quietly, default_factory, open_imap
from services.fetcher.mailconfig import ImapConfig, Pop3Config, password_from
from services.fetcher.pop3 import Pop3Factory, default_pop3_factory, open_pop3


@dataclass
class ProbeResult:
    ok: bool
    summary: str  # one line: where it connected, or which step failed
    stage: str | None = None  # dns | tcp | tls | auth | quota | protocol | config, on failure
    folders: list[str] = field(default_factory=list)
    messages: int | None = None  # in the folder the account reads (IMAP), the maildrop (POP3), the drop folder


def failure_stage(exc: BaseException) -> tuple[str, str]:
    """(stage, text) of a failed connect or login, from the fetcher's own classification."""
    error = classify(exc)
    if isinstance(exc, socket.gaierror | socket.herror):
        return "dns", str(error)
    return ("tcp" if error.kind == "network" else error.kind), str(error)


def probe(kind: str, config: dict[str, Any], secrets: dict[str, Any], *,
          imap_factory: ClientFactory = default_factory,
          pop3_factory: Pop3Factory = default_pop3_factory) -> ProbeResult:
    if kind == "dropfolder":
        return _probe_dropfolder(Path(config["path"]))
    if kind == "stdin":
        return ProbeResult(True, "a stdin account has nothing to connect to: mail is piped in (postroom ingest)")
    if kind not in ("imap", "pop3"):
        # The OAuth kinds (graph, gmail) add their probe here, with the token step as the "auth" stage.
        return ProbeResult(False, f"testing a {kind} account is not supported", "config")
    try:
        password = password_from(secrets)
    except ValueError as exc:
        return ProbeResult(False, str(exc), "config")
    if kind == "imap":
        return _probe_imap(ImapConfig.model_validate(config), password, imap_factory)
    return _probe_pop3(Pop3Config.model_validate(config), password, pop3_factory)


def _where(config: ImapConfig | Pop3Config) -> str:
    return f"{config.host}:{config.resolved_port} (tls {config.tls}) as {config.user}"


def _failed(exc: BaseException, config: ImapConfig | Pop3Config, step: str) -> ProbeResult:
    stage, text = failure_stage(exc)
    return ProbeResult(False, f"{stage.upper()} error {step} {_where(config)}: {text}", stage)


def _probe_imap(config: ImapConfig, password: str, factory: ClientFactory) -> ProbeResult:
    try:
        client = open_imap(config, password, factory)
    except Exception as exc:
        return _failed(exc, config, "connecting to")
    try:
        folders = sorted(name for _flags, _delimiter, name in client.list_folders())
        status = client.folder_status(config.folder, [b"MESSAGES"])
        count = int(status[b"MESSAGES"])
    except Exception as exc:
        return _failed(exc, config, f"reading folder {config.folder!r} at")
    finally:
        close_quietly(client)
    return ProbeResult(True, f"connected and logged in to {_where(config)}", folders=folders, messages=count)


def _probe_pop3(config: Pop3Config, password: str, factory: Pop3Factory) -> ProbeResult:
    try:
        mailbox = open_pop3(config, password, factory)
    except Exception as exc:
        return _failed(exc, config, "connecting to")
    try:
        count = len(mailbox.listing())
        mailbox.quit()  # nothing was deleted: QUIT only logs out
    except Exception as exc:
        return _failed(exc, config, "listing the maildrop at")
    finally:
        mailbox.close()
    return ProbeResult(True, f"connected and logged in to {_where(config)}", messages=count)


def _probe_dropfolder(path: Path) -> ProbeResult:
    if not path.exists():
        return ProbeResult(True, f"drop folder {path} does not exist yet: the fetcher creates it", messages=0)
    if not path.is_dir():
        return ProbeResult(False, f"{path} is not a folder", "config")
    try:
        count = len(ready_files(path, 0))
    except OSError as exc:
        return ProbeResult(False, f"cannot read the drop folder {path}: {exc}", "config")
    return ProbeResult(True, f"drop folder {path} is readable", messages=count)
