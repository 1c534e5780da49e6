"""The console served for real: the API's application (console included) under uvicorn on a free port
in a thread, over the real database and RabbitMQ, driven by Debian's Chromium through Playwright. The
people and items are made as in tests/api: the application layer and the real itemwriter."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from services.api.bootstrap import ApiService, build
from services.api.server import server_for
from services.api.settings import ApiSettings
from services.app import users
from services.notifier.bootstrap import build as build_notifier
from services.notifier.settings import NotifierSettings
from shared.contracts import Envelope, decode
from shared.db.engine import transaction
from shared.health import HealthState
from shared.service import broker_from, topology_from
from tests.api.conftest import ADMIN, AGENT
from tests.support.accountcli import declare_projects
from tests.support.broker_admin import get_all
from tests.support.items import TEST_SECRET, add_account, handle, mail
from tests.support.servers import free_port, unavailable
from tests.support.waiting import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

__all__ = ["ADMIN", "AGENT", "Console"]


@dataclass
class Console:
    url: str
    service: ApiService
    sessions: sessionmaker[Session]
    settings: ApiSettings

    def customer_mail(self, **kwargs: Any) -> int:
        """A customer's mail handled by the real itemwriter; the item's number."""
        return handle(self.sessions, mail(**kwargs)).item.number

    def auto_replied_mail(self, smtp_port: int, **kwargs: Any) -> int:
        """A customer's mail handled by the real itemwriter, then its item event by the real notifier:
        the auto-reply sent to ``smtp_port`` and recorded on the item; the item's number."""
        changed = handle(self.sessions, mail(**kwargs))
        [result] = self._notifier(smtp_port).handle_batch([Envelope.first(changed)])  # type: ignore[union-attr]
        assert not isinstance(result, Exception), result
        return changed.item.number

    def deliver(self, smtp_port: int) -> None:
        """Publish what the console's work queued (as the relay does after a commit), then hand the
        notifier's queue to the real notifier, built by its composition root, sending to ``smtp_port``."""
        self.service.relay.publish_pending()
        queue = topology_from(self.settings).queue("notifier")
        envelopes = [decode(body) for body, _ in get_all(self.settings.amqp_url, queue)]
        results = self._notifier(smtp_port).handle_batch(envelopes)  # type: ignore[union-attr]
        assert envelopes and not [r for r in results if isinstance(r, Exception)], results

    def _notifier(self, smtp_port: int) -> Any:
        settings = NotifierSettings(database_url=self.settings.database_url, amqp_url=self.settings.amqp_url,
                                    broker_namespace=self.settings.broker_namespace, store_dir=self.settings.store_dir,
                                    smtp_host="127.0.0.1", smtp_port=smtp_port, token_secret=TEST_SECRET)
        return build_notifier(settings, HealthState(), self.service.broker).handler


@pytest.fixture
def console(database_url: str, sessions: sessionmaker[Session], amqp_url: str, namespace: str,
            tmp_path: Path) -> Iterator[Console]:
    settings = ApiSettings(database_url=database_url, amqp_url=amqp_url, broker_namespace=namespace,
                           token_secret=TEST_SECRET, store_dir=tmp_path / "store", var_dir=tmp_path, api_port=free_port())
    broker = broker_from(settings)
    service = build(settings, broker)
    broker.declare()
    with transaction(sessions) as session:
        users.add_user(session, ADMIN[0], name="Root", role="admin", password=ADMIN[1])
        users.add_user(session, AGENT[0], name="Ann Agent", role="agent", password=AGENT[1])
    declare_projects(sessions)  # every account names a declared project
    add_account(sessions)
    server = server_for(service, settings)
    thread = threading.Thread(target=server.run, name="console-server", daemon=True)
    thread.start()
    wait_for(lambda: server.started, what="uvicorn to listen")
    yield Console(settings.url, service, sessions, settings)
    server.should_exit = True
    thread.join(10)
    broker.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        unavailable("Chromium (apt-get install chromium)", CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Tab:
    """A browser tab and what its console said about the page's security policy."""

    page: Any
    console: Console
    violations: list[str] = field(default_factory=list)

    def open(self, path: str) -> Any:
        return self.page.goto(self.console.url + path)

    def sign_in(self, who: tuple[str, str]) -> None:
        self.open("/sign-in")
        self.page.get_by_label("Email").fill(who[0])
        self.page.get_by_label("Password").fill(who[1])
        self.page.get_by_role("button", name="Sign in").click()
        # Hashing the password (argon2id) is slow on purpose; more so on a loaded machine.
        self.page.get_by_role("button", name="Sign out").wait_for(timeout=30_000)


# Seen before any page script runs (an init script is not bound by the page's policy): every
# violation the browser reports, whatever the page does with the event.
_WATCH_CSP = """document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI);
});"""


@pytest.fixture
def tab(browser: Any, console: Console) -> Iterator[Tab]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.add_init_script(_WATCH_CSP)
    opened = Tab(page, console)

    def seen(message: Any) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("CSP violation"):
            opened.violations.append(message.text)

    page.on("console", seen)
    yield opened
    context.close()
