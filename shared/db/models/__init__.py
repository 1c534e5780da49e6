"""The database schema, shared by the services (each owns its tables' behaviour, not this package),
one module per concern. Changes go through an Alembic migration in ``shared/db/migrations/versions``.
"""

from __future__ import annotations

from shared.db.models.base import Base, as_utc, utcnow
from shared.db.models.catalog import (Contact, Customer, CustomField, ItemLink, ItemNotify, ItemType, Project,
                                      Status, User, WorkflowStep)
from shared.db.models.fetcher import (AccountHealth, ApiCursor, FetchedDigest, FetcherLease, FetcherReplica,
                                      FetchFailure, MailboxCursor, Pop3Uidl)
from shared.db.models.held import HeldMail
from shared.db.models.items import (Account, Item, ItemAttachment, ItemMail, ItemSequence, LoopBreaker,
                                    OutboundMail)
from shared.db.models.oauth import OAuthToken
from shared.db.models.work import ApiToken, ItemEvent, PendingMessage

__all__ = [
    "Base", "as_utc", "utcnow",
    "Contact", "Customer", "CustomField", "ItemLink", "ItemNotify", "ItemType", "Project", "Status", "User",
    "WorkflowStep",
    "AccountHealth", "ApiCursor", "FetchedDigest", "FetcherLease", "FetcherReplica", "FetchFailure",
    "MailboxCursor", "Pop3Uidl",
    "HeldMail",
    "Account", "Item", "ItemAttachment", "ItemMail", "ItemSequence", "LoopBreaker", "OutboundMail",
    "OAuthToken",
    "ApiToken", "ItemEvent", "PendingMessage",
]
