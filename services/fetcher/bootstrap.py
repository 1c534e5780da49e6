"""The fetcher's composition root: the only place that knows the concrete adapters."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from services.fetcher.apiaccounts import API_KINDS, ApiSession, OAuthParts
from services.fetcher.backoff import Backoff
from services.fetcher.cursors import CursorRepo
from services.fetcher.failedmail import FailedMailRepo
from shared.mailboxes.imap import ClientFactory, ImapFolder, default_factory, open_imap
from services.fetcher.imap_sync import ImapSync
from services.fetcher.ingest import ingest_batch, ingest_raw
from services.fetcher.leases import LeaseRepo
from services.fetcher.loop import FetcherService
from shared.oauth.accounts import AccountAuthenticators
from shared.oauth.store import TokenStore
from shared.oauth.tokens import TokenProvider
from shared.mailboxes.mailconfig import ImapConfig, Pop3Config, password_from
from shared.mailboxes.pop3 import Pop3Factory, default_pop3_factory, open_pop3
from services.fetcher.pop3_sync import Pop3Sync
from services.fetcher.scheduler import AccountRow, Scheduler
from services.fetcher.sessions import DropFolderSession, ImapSession, MailboxSession, Pop3Session
from services.fetcher.settings import FetcherSettings
from services.fetcher.status import HealthRepo
from services.fetcher.uidls import UidlRepo
from services.fetcher.worker import AccountWorker
from shared.broker.port import Broker
from shared.db.engine import make_engine, make_sessionmaker
from shared.health import HealthState
from shared.secrets import SecretBox
from shared.service import broker_from
from shared.store import BlobStore, store_from


def build(settings: FetcherSettings, health: HealthState, broker: Broker | None = None, *,
          imap_factory: ClientFactory = default_factory,
          pop3_factory: Pop3Factory = default_pop3_factory) -> FetcherService:
    broker = broker or broker_from(settings)
    store = store_from(settings)
    sessions = make_sessionmaker(make_engine(settings.resolved_database_url))
    leases = LeaseRepo(sessions, settings.resolved_replica_id, settings.lease_ttl)
    box = SecretBox(settings.resolved_secret_keys)
    backoff = Backoff(settings.backoff_base, settings.backoff_cap, settings.auth_backoff_base,
                      settings.auth_backoff_cap)
    authenticators, tokens = AccountAuthenticators(sessions, box), TokenStore(sessions, box)
    oauth = OAuthParts(sessions, authenticators, tokens, TokenProvider(tokens, authenticators))
    wiring = _Wiring(settings, sessions, leases, box, store, broker, imap_factory, pop3_factory, oauth)

    def make_worker(row: AccountRow) -> AccountWorker:
        return AccountWorker(row.name, partial(wiring.open_session, row), HealthRepo(sessions, row.name), backoff)

    return FetcherService(broker=broker, scheduler=Scheduler(sessions, leases, make_worker), settings=settings,
                          health=health, token_sweep=oauth.sweep_tokens)


class _Wiring:
    def __init__(self, settings: FetcherSettings, sessions: sessionmaker[Session], leases: LeaseRepo,
                 box: SecretBox, store: BlobStore, broker: Broker, imap_factory: ClientFactory,
                 pop3_factory: Pop3Factory, oauth: OAuthParts) -> None:
        self.settings, self.sessions, self.leases, self.box = settings, sessions, leases, box
        self.store, self.broker = store, broker
        self.imap_factory, self.pop3_factory, self.oauth = imap_factory, pop3_factory, oauth

    def open_session(self, row: AccountRow) -> MailboxSession:
        if row.kind == "dropfolder":
            return DropFolderSession(row.name, Path(row.config["path"]), self.store, self.broker,
                                     self.settings.settle_seconds, self.settings.poll_interval)
        if row.kind in API_KINDS:
            return ApiSession(row.name, row.kind, row.config, self.oauth, self.store, self.broker)
        ingest = partial(self._ingest, row.name, row.kind)
        cursors = CursorRepo(self.sessions, self.leases, row.name)
        failed = FailedMailRepo(self.sessions, row.name, self.settings.max_fetch_attempts)
        xoauth2 = row.config.get("auth") == "xoauth2"
        token = self.oauth.provider(row.name) if xoauth2 else None
        password = "" if xoauth2 else password_from(self.box.open(row.sealed_secrets))
        if row.kind == "pop3":
            pop3 = Pop3Config.model_validate(row.config)
            syncer = Pop3Sync(row.name, pop3, UidlRepo(self.sessions, self.leases, row.name), cursors, failed,
                              ingest)
            return Pop3Session(partial(open_pop3, pop3, password, self.pop3_factory, token), syncer)
        imap = ImapConfig.model_validate(row.config)
        client = open_imap(imap, password, self.imap_factory, token)
        folder = ImapFolder(client, imap.folder, readonly=imap.after_fetch == "leave")
        ingest_many = partial(self._ingest_batch, row.name, row.kind)
        return ImapSession(client, folder, ImapSync(row.name, imap, folder, cursors, failed, ingest_many),
                           self.settings.reidle_after)

    def _ingest(self, account: str, source: str, source_id: str, raw: bytes, archive: bool) -> None:
        ingest_raw(account=account, source=source, source_id=source_id, raw=raw, store=self.store,
                   broker=self.broker, archive=archive)

    def _ingest_batch(self, account: str, source: str, mails: list[tuple[str, bytes, bool]]) -> None:
        ingest_batch(account=account, source=source, mails=mails, store=self.store, broker=self.broker)
