"""``postroom accounts test NAME``: connect and log in the way the fetcher does (its adapters, its
error classification), then say what is there, or exactly which step failed and why.

The fetcher's classification has one "network" kind (it decides a back-off); a person fixing a
setting needs to know whether the name did not resolve (DNS) or nothing answered (TCP). Accounts that
sign in with OAuth (graph, gmail, IMAP/POP3 with XOAUTH2) get their token first (probe_oauth.py).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.mailboxes.dropfiles import ready_files
from shared.mailboxes.failures import classify
from shared.mailboxes.imap import ClientFactory, close_quietly, default_factory, open_imap
from shared.mailboxes.mailconfig import ImapConfig, Pop3Config, password_from
from shared.mailboxes.pop3 import Pop3Factory, default_pop3_factory, open_pop3
from shared.mailboxes.probe_oauth import AccountToken, ProbeFailed, read_gmail, read_graph, sign_in
from shared.mailboxes.tlsmode import plain_on_tls_port


@dataclass
class ProbeResult:
    ok: bool
    summary: str  # one line: where it connected, or which step failed
    stage: str | None = None  # dns | tcp | tls | auth | quota | protocol | config, on failure
    folders: list[str] = field(default_factory=list)
    messages: int | None = None  # in the folder the account reads (IMAP), the maildrop (POP3), the drop folder
    counted_in: str | None = None  # where ``messages`` were counted, when not the kind's usual place


# How the HTTP clients of the API kinds (requests, httplib2) say a name did not resolve.
_DNS_TEXTS = ("NameResolutionError", "Name or service not known", "Unable to find the server")


def failure_stage(exc: BaseException) -> tuple[str, str]:
    """(stage, text) of a failed connect or login, from the fetcher's own classification."""
    error = classify(exc)
    if isinstance(exc, socket.gaierror | socket.herror) or any(t in str(exc) for t in _DNS_TEXTS):
        return "dns", str(error)
    if error.kind == "auth_failed":  # the OAuth sign-in was refused
        return "auth", str(error)
    return ("tcp" if error.kind == "network" else error.kind), str(error)


def probe(kind: str, config: dict[str, Any], secrets: dict[str, Any], *, account: str = "",
          token: AccountToken | None = None, imap_factory: ClientFactory = default_factory,
          pop3_factory: Pop3Factory = default_pop3_factory) -> ProbeResult:
    """``token``: the account's OAuth access token (``None`` when it has no sign-in stored)."""
    if kind == "dropfolder":
        return _probe_dropfolder(Path(config["path"]))
    if kind == "stdin":
        return ProbeResult(True, "a stdin account has nothing to connect to: mail is piped in (postroom ingest)")
    if kind in ("graph", "gmail") or config.get("auth") == "xoauth2":
        return _probe_oauth(kind, config, account, token, imap_factory, pop3_factory)
    if kind not in ("imap", "pop3"):
        return ProbeResult(False, f"testing a {kind} account is not supported", "config")
    try:
        password = password_from(secrets)
    except ValueError as exc:
        return ProbeResult(False, str(exc), "config")
    if kind == "imap":
        return _probe_imap(ImapConfig.model_validate(config), password, imap_factory)
    return _probe_pop3(Pop3Config.model_validate(config), password, pop3_factory)


def _probe_oauth(kind: str, config: dict[str, Any], account: str, token: AccountToken | None,
                 imap_factory: ClientFactory, pop3_factory: Pop3Factory) -> ProbeResult:
    provider = str((config.get("oauth") or {}).get("provider", "OAuth"))
    try:
        fetch = sign_in(token, account, provider)
        if kind == "imap":
            return _probe_imap(ImapConfig.model_validate(config), "", imap_factory, lambda: fetch(False))
        if kind == "pop3":
            return _probe_pop3(Pop3Config.model_validate(config), "", pop3_factory, lambda: fetch(False))
        found = (read_graph if kind == "graph" else read_gmail)(config, fetch)
    except ProbeFailed as exc:
        return ProbeResult(False, str(exc), exc.stage)
    except Exception as exc:
        stage, text = failure_stage(exc)
        return ProbeResult(False, f"{stage.upper()} error reading the {kind} mailbox: {text}", stage)
    return ProbeResult(True, found.summary, folders=found.folders, messages=found.messages,
                       counted_in=found.counted_in)


def _where(config: ImapConfig | Pop3Config) -> str:
    return f"{config.host}:{config.resolved_port} (tls {config.tls}) as {config.user}"


def _failed(exc: BaseException, config: ImapConfig | Pop3Config, step: str) -> ProbeResult:
    stage, text = failure_stage(exc)  # a connection's TLS hint is in the text (shared/mailboxes/tlsmode.py)
    return ProbeResult(False, f"{stage.upper()} error {step} {_where(config)}: {text}", stage)


def _mode_mismatch(config: ImapConfig | Pop3Config) -> ProbeResult | None:
    """A clear-text or STARTTLS account pointed at an implicit-TLS port, found in seconds instead of
    after the whole timeout."""
    hint = plain_on_tls_port(config) if config.tls != "implicit" else None
    return ProbeResult(False, f"TLS error connecting to {_where(config)}: {hint}", "tls") if hint else None


def _probe_imap(config: ImapConfig, password: str, factory: ClientFactory,
                token: Callable[[], str] | None = None) -> ProbeResult:
    if (mismatch := _mode_mismatch(config)) is not None:
        return mismatch
    try:
        client = open_imap(config, password, factory, token)
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


def _probe_pop3(config: Pop3Config, password: str, factory: Pop3Factory,
                token: Callable[[], str] | None = None) -> ProbeResult:
    if (mismatch := _mode_mismatch(config)) is not None:
        return mismatch
    try:
        mailbox = open_pop3(config, password, factory, token)
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
