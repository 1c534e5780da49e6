"""Who a mail is from, as far as we may trust it: the contact address the mapping names, checked
against the receiving server's Authentication-Results, mapped to one of our users or to a customer's
contact by address (when the account maps senders), and, for an agent's forward, the original author."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.items.authentication import SenderAuth
from services.itemwriter.forwards import original_sender
from services.itemwriter.lookups import Lookups
from services.itemwriter.repository import as_loaded, insert_unless_present
from shared.contracts import Address, MailParsed
from shared.db.models import Account, Contact, Customer, User


@dataclass
class Sender:
    address: str | None  # lower-case; the mail's contact per the field mapping
    name: str
    auth: SenderAuth
    user: User | None = None  # the address is one of our agents
    contact: Contact | None = None
    customer: Customer | None = None
    forwarded_by: str | None = None  # the agent whose forward was attributed to ``address``
    notes: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        """A trusted server said pass for this sender."""
        return self.auth.verified


def customer_of(session: Session, address: str) -> Customer | None:
    """The customer an address belongs to: its contact's customer, else a customer owning its domain."""
    return customer_for(session, address, session.scalar(select(Contact).where(Contact.email == address)))


def customer_for(session: Session, address: str, contact: Contact | None,
                 customers: list[tuple[Customer, set[str]]] | None = None) -> Customer | None:
    """``customer_of`` when the address's contact row (or its absence) is already known; ``customers``
    as ``Lookups.customers`` gives them, when the caller has them."""
    if contact is not None and contact.customer_id is not None:
        return session.get(Customer, contact.customer_id)
    domain = address.rpartition("@")[2]
    if customers is None:
        customers = [(c, {d.lower() for d in c.domains})
                     for c in session.scalars(select(Customer).order_by(Customer.id))]
    return next((c for c, domains in customers if domain in domains), None)


def ensure_contact(session: Session, address: str, name: str, customer: Customer | None,
                   known: Contact | None = None, looked_up: bool = False) -> Contact:
    """The contact row of ``address``, made on first sight; a concurrent writer's row wins.
    ``looked_up``: the caller already read the row (``known``, None when there was none)."""
    contact = known if looked_up else session.scalar(select(Contact).where(Contact.email == address))
    if contact is not None:
        return contact
    # A Core INSERT: the ORM's INSERT ... RETURNING an entity costs more than the statement.
    row = insert_unless_present(session, Contact.__table__, {
        "email": address, "name": name[:200], "customer_id": customer.id if customer else None}, returning=True).first()
    if row is not None:
        return as_loaded(session, Contact, row)
    contact = session.scalar(select(Contact).where(Contact.email == address))  # a concurrent writer's row
    assert contact is not None
    return contact


def identify(session: Session, account: Account, mail: MailParsed, mapped: Address | None,
             auth: SenderAuth, lookups: Lookups) -> Sender:
    if mapped is None:
        return Sender(None, "", auth, notes=["the mail names no contact address"])
    sender = Sender(mapped.address.lower(), mapped.name, auth, notes=[f"sender authentication: {auth.reason}"])
    if auth.failed:
        sender.notes.append(f"{sender.address} failed sender authentication: not mapped to a user or a customer")
        return sender
    sender.user = lookups.active_user(sender.address)
    if sender.user is not None and account.attribute_forwards:
        original = original_sender(mail.subject, mail.text)
        if original is not None and original.address.lower() != sender.address:
            sender.notes.append(f"forwarded by agent {sender.address}: attributed to {original.address}")
            sender.forwarded_by, sender.address, sender.name = sender.address, original.address.lower(), original.name
            sender.user = lookups.user(sender.address)
    if not account.map_senders:
        sender.notes.append("the account does not map senders to customers or users")
        sender.user = None
        return sender
    if sender.user is not None:
        sender.notes.append(f"{sender.address} is our user {sender.user.name or sender.user.email}")
        return sender
    assert sender.address is not None
    known = lookups.contact(sender.address)
    sender.customer = customer_for(session, sender.address, known, lookups.customers())
    sender.contact = ensure_contact(session, sender.address, sender.name, sender.customer, known, looked_up=True)
    sender.notes.append(f"{sender.address} belongs to customer {sender.customer.name}" if sender.customer
                        else f"{sender.address} belongs to no customer")
    return sender
