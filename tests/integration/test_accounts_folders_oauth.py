"""``postroom accounts folders NAME`` and the application-layer function behind it (the console's
folder choice) for Graph and Gmail accounts: Graph folders by id with their path, subfolders
included, the one read marked (set as a path); Gmail labels by id; not signed in: what to do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.app.accountchecks import folders
from services.app.actors import OPERATOR
from services.app.errors import Conflict
from tests.support.fake_gmail import FakeGmail
from tests.support.fake_graph import FakeMailbox, serve_graph
from tests.support.oauth_cli import OAuthCli, oauth_cli  # noqa: F401 (fixture)
from tests.support.oauth_servers import stop


@pytest.fixture
def graph() -> Iterator[tuple[FakeMailbox, str]]:
    mailbox = FakeMailbox(valid_tokens={"graph-at-1"}, folder_page_size=1)  # every level paged
    server, base = serve_graph(mailbox)
    yield mailbox, base
    stop(server)


def test_graph_folders_come_by_id_with_their_paths_and_the_one_read_marked(oauth_cli: OAuthCli, graph) -> None:
    mailbox, base = graph
    support = mailbox.add_folder("Support", parent="inbox")
    tier2 = mailbox.add_folder("Tier 2", parent=support)
    sales = mailbox.add_folder("Sales", parent="inbox")
    oauth_cli.add("support", "graph", oauth_cli.microsoft, base_url=base, folder="Inbox/Support")
    oauth_cli.sign_in_microsoft("support", "graph-at-1")

    found = folders(oauth_cli.sessions, OPERATOR, "support", oauth_cli.box)
    assert {f["path"]: (f["id"], f["selected"]) for f in found} == {
        "Inbox": ("inbox", False), "Inbox/Support": (support, True), "Inbox/Support/Tier 2": (tier2, False),
        "Inbox/Sales": (sales, False), "Archive": ("archive", False)}
    assert all(f["flags"] == [] for f in found)

    result = oauth_cli.cli("folders", "support")
    assert result.exit_code == 0, result.output
    assert f"* Inbox/Support  ({support})" in result.output.splitlines()
    assert f"  Inbox/Support/Tier 2  ({tier2})" in result.output.splitlines()
    assert "graph-at-1" not in result.output
    assert all(method == "GET" for method, _ in mailbox.log)


def test_the_well_known_inbox_is_marked_by_the_id_graph_gives_it(oauth_cli: OAuthCli, graph) -> None:
    mailbox, base = graph
    mailbox.add_folder("Support", parent="inbox")
    oauth_cli.add("support", "graph", oauth_cli.microsoft, base_url=base)  # folder: inbox (the default)
    oauth_cli.sign_in_microsoft("support", "graph-at-1")
    found = folders(oauth_cli.sessions, OPERATOR, "support", oauth_cli.box)
    assert [f["path"] for f in found if f["selected"]] == ["Inbox"]


def test_gmail_labels_come_by_id_with_their_names_and_the_ones_read_marked(oauth_cli: OAuthCli) -> None:
    fake = FakeGmail(valid_tokens={"ya29.gm-1"})
    server, base = fake.serve()
    try:
        oauth_cli.add("gm", "gmail", oauth_cli.google_oauth, base_url=base, labels=["Label_3"])
        oauth_cli.sign_in_google("gm", "ya29.gm-1")
        found = folders(oauth_cli.sessions, OPERATOR, "gm", oauth_cli.box)
    finally:
        stop(server)
    assert [(f["id"], f["path"], f["selected"]) for f in found] == [
        ("ALL", "All Mail (everything but spam and trash)", False), ("INBOX", "INBOX", False),
        ("Label_3", "Support", True)]


def test_folders_of_an_account_never_signed_in_say_to_connect(oauth_cli: OAuthCli, graph) -> None:
    oauth_cli.add("support", "graph", oauth_cli.microsoft, base_url=graph[1])
    with pytest.raises(Conflict, match="run postroom accounts connect support"):
        folders(oauth_cli.sessions, OPERATOR, "support", oauth_cli.box)
    assert graph[0].log == []
