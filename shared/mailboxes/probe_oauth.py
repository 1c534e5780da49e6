"""``postroom accounts test`` for accounts that sign in with OAuth: the access token from the
fetcher's token provider (a refresh stored sealed before use, a refusal recorded as ``auth_failed``),
then the folders or labels and the message count through the fetcher's own Graph and Gmail clients.

The sign-in is its own step: a refused or unreachable token endpoint is an ``auth`` failure with the
provider's answer, before any mail server is asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from googleapiclient.errors import HttpError

from shared.mailboxes.apiconfig import ALL_MAIL, GmailConfig, GraphConfig
from shared.mailboxes.gmail_client import execute, gmail_service
from shared.mailboxes.graph_client import GraphClient, GraphError
from shared.mailboxes.graph_folders import UnknownFolder, list_folders, resolve_folder
from shared.oauth.errors import AuthFailed, TokenUnavailable
from shared.oauth.store import TokenStore
from shared.oauth.tokens import TokenProvider


@dataclass
class AccountToken:
    """One account's access token, the way the fetcher gets it."""

    account: str
    provider: TokenProvider
    store: TokenStore

    def signed_in(self) -> bool:
        return self.store.load(self.account) is not None

    def __call__(self, force: bool = False) -> str:
        return self.provider.token(self.account, force)


@dataclass(frozen=True)
class Found:
    summary: str
    folders: list[str]
    messages: int
    counted_in: str


class ProbeFailed(Exception):
    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


def sign_in(token: AccountToken | None, account: str, provider: str) -> Callable[[bool], str]:
    """The access token as the clients take it (fetched once; refreshed when a server refuses it), or
    ``ProbeFailed("auth", ...)`` saying why there is none."""
    if token is None or not token.signed_in():
        raise ProbeFailed("auth", f"not signed in yet: run postroom accounts connect {account}")
    try:
        access = token()
        return lambda force: token(True) if force else access
    except AuthFailed as exc:
        raise ProbeFailed("auth", f"AUTH error signing in with {provider.capitalize()}: {exc}") from None
    except TokenUnavailable as exc:
        raise ProbeFailed("auth", f"AUTH error signing in with {provider.capitalize()} "
                                  f"(try again later): {exc}") from None


def read_graph(config: dict[str, Any], token: Callable[[bool], str]) -> Found:
    """The folders by path (subfolders included) and the count of the one read (a path resolved)."""
    graph = GraphConfig.model_validate(config)
    client, user = GraphClient(token, graph.base_url), f"/users/{quote(graph.mailbox)}"
    try:
        listed = list_folders(client, graph.mailbox)
        folder_id = resolve_folder(client, graph.mailbox, graph.folder)
        folder = client.json("GET", f"{user}/mailFolders/{quote(folder_id)}?$select=totalItemCount")
    except UnknownFolder as exc:
        raise ProbeFailed("config", f"CONFIG error: {exc}") from None
    except GraphError as exc:
        raise ProbeFailed(_graph_stage(exc.status), f"{_stage_word(exc.status)} error reading mailbox "
                                                    f"{graph.mailbox} through Graph: {exc}") from None
    return Found(f"signed in and read mailbox {graph.mailbox} through Microsoft Graph",
                 sorted(f.path for f in listed), int(folder.get("totalItemCount", 0)), graph.folder)


def read_gmail(config: dict[str, Any], token: Callable[[bool], str]) -> Found:
    gmail = GmailConfig.model_validate(config)
    users = gmail_service(token, base_url=gmail.base_url).users()
    try:
        labels = execute(users.labels().list(userId="me")).get("labels", [])
        if ALL_MAIL in gmail.labels:
            count = int(execute(users.getProfile(userId="me")).get("messagesTotal", 0))
        else:
            count = sum(int(execute(users.labels().get(userId="me", id=label)).get("messagesTotal", 0))
                        for label in gmail.labels)
    except HttpError as exc:
        status = int(exc.resp.status)
        raise ProbeFailed(_graph_stage(status), f"{_stage_word(status)} error reading the mailbox through the "
                                                f"Gmail API: {status} {exc.reason}") from None
    names = sorted(f"{label['name']} ({label['id']})" if label["name"] != label["id"] else label["id"]
                   for label in labels)
    return Found("signed in and read the mailbox through the Gmail API", names, count, ", ".join(gmail.labels))


def _graph_stage(status: int) -> str:
    # 401 after a fresh token, 403: the sign-in does not reach this mailbox (scope, consent, access policy).
    return "auth" if status in (401, 403) else "config" if status == 404 else "protocol"


def _stage_word(status: int) -> str:
    return {"auth": "AUTH", "config": "CONFIG"}.get(_graph_stage(status), "PROTOCOL")
