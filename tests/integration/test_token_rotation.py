"""Rotating the token secret: mail we sent under an older secret still threads its replies, through
the parser's handler (built from its settings) and the itemwriter, against a real database."""

from __future__ import annotations

from pathlib import Path

from services.parser.settings import ParserSettings
from shared.store import FilesystemBlobStore
from shared.tokens import ItemTokens
from tests.support.items import add_account, item, through_parser

OLD = "postroom-old-token-secret-retired-last-month-x"
CURRENT = "postroom-current-token-secret-since-this-week-y"
NEVER_OURS = "postroom-token-secret-of-some-other-install-zz"
COLLEAGUE = "someone@else.example"  # not on the item: only a token issued to them lets them in


def _first_mail() -> bytes:
    return (b"From: Alice <alice@customer.example>\r\nTo: support@ours.example\r\nSubject: Printer on fire\r\n"
            b"Message-ID: <first@customer.example>\r\n\r\nIt is on fire.\r\n")


def _reply(in_reply_to: str, n: int) -> bytes:
    return (f"From: Someone <{COLLEAGUE}>\r\nTo: support@ours.example\r\nSubject: Re: your mail\r\n"
            f"Message-ID: <reply{n}@else.example>\r\nIn-Reply-To: {in_reply_to}\r\n\r\nStill on fire.\r\n").encode()


def _our_mail_to_the_colleague(secret: str) -> str:
    return ItemTokens("[#{number}]", secret).message_id("incident", 1, "ours.example", recipient=COLLEAGUE)


def test_a_reply_to_mail_signed_with_an_older_secret_joins_its_item_and_one_with_another_does_not(
        sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The older secret is in POSTROOM_TOKEN_SECRETS_OLD: its token still names the item. A token
    signed with a secret we never had opens nothing: the reply becomes a new item."""
    settings = ParserSettings(token_secret=CURRENT, token_secrets_old=OLD)
    tokens, store = settings.item_tokens(), FilesystemBlobStore(tmp_path / "blobs")
    add_account(sessions)
    [first] = through_parser(sessions, store, tokens, _first_mail())
    assert (first.change, first.item.number) == ("created", 1)

    [old] = through_parser(sessions, store, tokens, _reply(_our_mail_to_the_colleague(OLD), 1))
    assert (old.change, old.item.number, old.matched_by) == ("appended", 1, "signed-token")
    [current] = through_parser(sessions, store, tokens, _reply(_our_mail_to_the_colleague(CURRENT), 2))
    assert (current.change, current.item.number, current.matched_by) == ("appended", 1, "signed-token")

    [other] = through_parser(sessions, store, tokens, _reply(_our_mail_to_the_colleague(NEVER_OURS), 3))
    assert (other.change, other.item.number) == ("created", 2)
    assert len(item(sessions, 1).mails) == 3


def test_without_the_older_secret_listed_its_tokens_open_nothing(sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """What the list is for: the same reply, with the old secret dropped from it, is a new item."""
    tokens = ParserSettings(token_secret=CURRENT).item_tokens()
    store = FilesystemBlobStore(tmp_path / "blobs")
    add_account(sessions)
    through_parser(sessions, store, tokens, _first_mail())
    [reply] = through_parser(sessions, store, tokens, _reply(_our_mail_to_the_colleague(OLD), 1))
    assert (reply.change, reply.item.number) == ("created", 2)


def test_new_tokens_are_signed_with_the_current_secret_only() -> None:
    """The older secrets verify, never sign: a token made now checks out without them."""
    tokens = ParserSettings(token_secret=CURRENT, token_secrets_old=OLD).item_tokens()
    message_id = tokens.message_id("incident", 7, "ours.example", recipient=COLLEAGUE)
    [ref] = ItemTokens("[#{number}]", CURRENT).items_in_message_id(message_id, COLLEAGUE)
    assert ref.valid and ref.bound
    [ref] = ItemTokens("[#{number}]", OLD).items_in_message_id(message_id, COLLEAGUE)
    assert not ref.valid
    loop = tokens.loop_value("postroom; default", message_id)
    assert ItemTokens("[#{number}]", CURRENT).loop_is_ours(loop, message_id)
    assert not ItemTokens("[#{number}]", OLD).loop_is_ours(loop, message_id)
