"""The governor's address rules: list software's addresses (owner-*, *-request, *-bounces, *-bounce)
never get an auto-reply, as recipient or as the mail's sender; people whose addresses merely look
alike still do; mail systems get nothing automatic at all."""

from __future__ import annotations

import pytest

from services.notifier.governor import Governor
from services.notifier.settings import NotifierSettings
from shared.contracts import Address, ItemChanged, ItemSummary, MailSummary
from shared.tokens import ItemTokens
from tests.support.pipeline import TOKEN_SECRET

GOVERNOR = Governor(NotifierSettings(token_secret=TOKEN_SECRET).governor_policy(), ItemTokens("[#{number}]", "secret"))

LIST_ADDRESSES = [
    "owner-dev@lists.example.com", "OWNER-announce@LISTSERV.example.edu", "owner-x+y@lists.example.com",
    "dev-request@lists.example.com", "Dev-Request@lists.example.com", "dev-request+subscribe@lists.example.com",
    "dev-bounces@lists.example.com", "dev-bounces+alice=example.com@lists.example.com",
    "dev-bounce@lists.example.com", "team.dev-bounce@lists.example.com",
]
PEOPLE = ["owner@shop.example", "homeowner-help@realty.example", "request@shop.example",
          "requests-team@shop.example", "bouncer@club.example", "ann.owner@example.com",
          "ann-requester@example.com"]


def _event(sender: str, reply_to: str | None = None) -> ItemChanged:
    return ItemChanged(
        change="created", account="support", auto_reply=True,
        item=ItemSummary(id=1, type="incident", number=7, title="t", status="new", project="IT"),
        mail=MailSummary(message_id="<m@example.com>", subject="s", from_=Address(address=sender),
                         reply_to=[Address(address=reply_to)] if reply_to else []))


@pytest.mark.parametrize("address", LIST_ADDRESSES)
def test_a_list_softwares_address_gets_no_auto_reply(address: str) -> None:
    """Each list address shape is refused for an auto-reply, with the rule and the address in the reason."""
    refusal = GOVERNOR.mail_refusal(_event(address), address, set(), "auto-reply")
    assert refusal is not None and refusal.rule == "list_address" and address in refusal.reason


@pytest.mark.parametrize("address", LIST_ADDRESSES[:4])
def test_mail_from_list_software_gets_no_auto_reply_at_its_reply_to_either(address: str) -> None:
    """The auto-reply would go to Reply-To (a person, or the list): the From decides it is the list's."""
    refusal = GOVERNOR.mail_refusal(_event(address, "ann@example.com"), "ann@example.com", set(), "auto-reply")
    assert refusal is not None and refusal.rule == "list_address" and address in refusal.reason


@pytest.mark.parametrize("address", PEOPLE)
def test_a_person_whose_address_only_looks_like_a_list_address_gets_the_auto_reply(address: str) -> None:
    assert GOVERNOR.mail_refusal(_event(address), address, set(), "auto-reply") is None


@pytest.mark.parametrize("address", ["it-request@example.com", "dev-bounces@lists.example.com"])
def test_a_watcher_at_a_request_address_still_gets_notifications(address: str) -> None:
    """The list rule is for auto-replies: an address on an item's list was put there by a person."""
    assert GOVERNOR.mail_refusal(_event("ann@example.com"), address, set(), "created") is None


@pytest.mark.parametrize("address", ["MAILER-DAEMON@mx.example.com", "postmaster@example.com",
                                     "no-reply@shop.example", "bounces+123@mail.example"])
def test_a_mail_system_gets_nothing_automatic(address: str) -> None:
    for kind in ("auto-reply", "created"):
        refusal = GOVERNOR.mail_refusal(_event("ann@example.com"), address, set(), kind)
        assert refusal is not None and refusal.rule == "system_address"


def test_the_list_address_pattern_is_a_setting() -> None:
    """POSTROOM_LIST_ADDRESS_PATTERN replaces the default: here, only *-request."""
    governor = Governor(NotifierSettings(list_address_pattern=r"^[^@]+-request@", token_secret=TOKEN_SECRET).governor_policy(),
                        GOVERNOR.tokens)
    assert governor.mail_refusal(_event("x-request@l.example"), "x-request@l.example", set(), "auto-reply")
    assert governor.mail_refusal(_event("owner-x@l.example"), "owner-x@l.example", set(), "auto-reply") is None
