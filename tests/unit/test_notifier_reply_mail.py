"""A person's reply as a mail: threaded to the customer's mail, whatever the length of the
Message-IDs in the thread (ours carry the item's token and run past a line)."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from services.notifier.reply_mail import build_reply
from shared.contracts import Address, ItemSummary, SendReply
from shared.store import FilesystemBlobStore
from shared.tokens import ItemTokens
from tests.support.pipeline import TOKEN_SECRET

TOKENS = ItemTokens("[#{number}]", TOKEN_SECRET)
CUSTOMER = "carla@customer.example"


def test_a_reply_threads_to_our_earlier_mail_by_its_whole_message_id_never_encoded_words(tmp_path: Path) -> None:
    ours = TOKENS.message_id("incident", 7, "ours.example", recipient=CUSTOMER)
    assert len(f"References: <first@customer.example> {ours}") > 78  # the standard library encodes it
    answer = "<answer@customer.example>"
    reply = SendReply(reply_id="r2", account="support", item=ItemSummary(id=1, type="incident", number=7,
                                                                         title="VPN drops", status="open", project="Support"),
                      author=Address(name="Ann Agent", address="ann@ours.example"), to=[Address(address=CUSTOMER)],
                      subject="Re: VPN drops [#7]", text="Thanks.", in_reply_to=answer,
                      references=["<first@customer.example>", ours, answer])
    raw = build_reply(reply, from_address="support@ours.example", token="[#7]", message_id=ours.replace(">", "x>"),
                      loop_id="postroom; test", store=FilesystemBlobStore(tmp_path)).data
    assert b"=?" not in raw.split(b"\r\n\r\n")[0]
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["In-Reply-To"] == answer
    assert message["References"].split() == ["<first@customer.example>", ours, answer]
    assert [(t.number, t.valid) for t in TOKENS.items_in_message_id(message["References"], CUSTOMER)] == [(7, True)]
    assert message["Subject"] == "Re: VPN drops [#7]" and message.get_content().strip() == "Thanks."
