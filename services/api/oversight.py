"""What an operator watches and mends beside the dead letters: the queues, the loop breakers and the
addresses flagged as failing. Reading is for every signed-in person but the queues (admins); every
change is for admins."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from services.api.deps import Admin, Agent, Ctx, UnitOfWork
from services.app import breakers, contacts, queues
from shared.service import topology_from

router = APIRouter()


class BreakerReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str
    recipient: str | None = None  # the correspondent's breaker
    item: int | None = None  # the item's (its number); neither: the whole account's


@router.get("/queues", summary="Every queue of the pipeline: depth, consumers, dead letters (and rates with the "
                               "management API)")
def list_queues(who: Admin, ctx: Ctx) -> dict[str, Any]:
    return queues.snapshot(ctx.settings.amqp_url, topology_from(ctx.settings),
                           ctx.settings.rabbitmq_management_url or None).as_json()


@router.get("/breakers", summary="The notifier's loop breakers, open ones first")
def list_breakers(who: Agent, session: UnitOfWork, account: str | None = None) -> list[dict[str, Any]]:
    return breakers.list_breakers(session, who, account)


@router.post("/breakers/reset", summary="Remove one loop breaker: automatic mail goes again at the next batch")
def reset_breaker(body: BreakerReset, who: Admin, session: UnitOfWork) -> dict[str, Any]:
    return breakers.reset(session, who, body.account, recipient=body.recipient, item=body.item)


@router.get("/contacts/failing", summary="Addresses our mail bounced from: nothing automatic goes to them")
def failing(who: Agent, session: UnitOfWork) -> list[dict[str, Any]]:
    return contacts.failing_contacts(session, who)


@router.post("/contacts/{address}/clear", summary="Mail may go to the address again")
def clear(address: str, who: Admin, session: UnitOfWork) -> dict[str, Any]:
    return contacts.clear_failing(session, who, address)
