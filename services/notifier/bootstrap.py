"""The notifier's composition root."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from services.notifier.governor import Governor
from services.notifier.handlers import Notifier
from services.notifier import pending
from services.notifier.replies import ReplySender
from services.notifier.senders import SenderPool
from services.notifier.settings import NotifierSettings
from services.notifier.waits import Waits
from shared.broker.port import Broker
from shared.db.engine import make_engine, make_sessionmaker
from shared.health import HealthState
from shared.logging import get_logger
from shared.oauth.accounts import AccountAuthenticators
from shared.oauth.store import TokenStore
from shared.oauth.tokens import TokenProvider
from shared.secrets import SecretBox
from shared.store import store_from
from shared.service import ConsumerService, broker_from, topology_from
from shared.templates import MailTemplates

log = get_logger("postroom.notifier")


def build(settings: NotifierSettings, health: HealthState, broker: Broker | None = None) -> ConsumerService:
    sessions = make_sessionmaker(make_engine(settings.resolved_database_url))
    tokens = settings.item_tokens()
    box = SecretBox(settings.resolved_secret_keys)
    # SMTP XOAUTH2 with the account's own Microsoft/Google sign-in (`smtp: {auth: xoauth2}`).
    oauth_tokens = TokenProvider(TokenStore(sessions, box), AccountAuthenticators(sessions, box))
    senders = SenderPool(settings, settings.smtp_password, box, oauth_tokens)
    loop_id = f"postroom; {settings.broker_namespace or 'default'}"
    replies = ReplySender(sessions, senders, tokens, store_from(settings), loop_id)
    governor = Governor(settings.governor_policy(), tokens)
    try:  # the breakers outlive a restart: so does their metric
        governor.publish(sessions)
    except OperationalError as exc:  # the database is not up yet: the first batch publishes them
        log.warning("loop breakers not read at start", error=type(exc).__name__)
    waits = Waits(sessions, settings.max_send_age, topology_from(settings).outage_delay)
    notifier = Notifier(
        sessions=sessions, senders=senders, governor=governor, templates=MailTemplates(), tokens=tokens,
        own_addresses=settings.own_addresses, loop_id=loop_id, replies=replies, waits=waits,
        console_url=settings.console_url)
    gauges = pending.PendingGauges(sessions)
    return ConsumerService("notifier", broker or broker_from(settings), notifier, settings, health,
                           periodic=((gauges.publish, pending.INTERVAL_SECONDS),))
