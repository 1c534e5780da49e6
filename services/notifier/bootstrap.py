"""The notifier's composition root."""

from __future__ import annotations

from services.notifier.handlers import make_handler
from services.notifier.settings import NotifierSettings
from services.notifier.smtp import SmtpSender
from shared.broker.port import Broker
from shared.db.engine import make_engine, make_sessionmaker
from shared.health import HealthState
from shared.service import ConsumerService, broker_from
from shared.tokens import ItemTokens


def build(settings: NotifierSettings, health: HealthState, broker: Broker | None = None) -> ConsumerService:
    sessions = make_sessionmaker(make_engine(settings.resolved_database_url))
    sender = SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_tls, settings.smtp_user,
                        settings.smtp_password, settings.smtp_timeout)
    tokens = ItemTokens(settings.item_token_format, settings.token_secret)
    loop_id = f"postroom; {settings.broker_namespace or 'default'}"
    handler = make_handler(sessions, sender, tokens, settings.own_addresses, settings.auto_reply_template, loop_id)
    return ConsumerService("notifier", broker or broker_from(settings), handler, settings, health)
