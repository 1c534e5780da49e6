"""Properties of address parsing (hypothesis): the angle-addr is the sender whatever the display name
says, a written address reads back as itself, nothing the header holds makes the parser raise, and
a display name that shows another address is always seen as a spoof sign."""

from __future__ import annotations

from email.headerregistry import Address as HeaderAddress

from hypothesis import given, settings
from hypothesis import strategies as st

from services.itemwriter.matching import spoof_sign
from services.parser.address_reading import SYSTEM_MAILBOXES
from services.parser.headers import parse_addresses
from shared.contracts import Address, MailParsed
from tests.support.items import mail

LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=20).filter(
    lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s)
LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12).filter(
    lambda s: not s.startswith("-") and not s.endswith("-"))
DOMAIN = st.lists(LABEL, min_size=1, max_size=3).map(lambda labels: ".".join([*labels, "example"]))
ADDRESS = st.tuples(LOCAL, DOMAIN).map(lambda parts: f"{parts[0]}@{parts[1]}")
# Display names of any printable text, including quotes, commas, angle brackets and non-ASCII.
DISPLAY = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=40)


@settings(max_examples=300, deadline=None)
@given(DISPLAY, ADDRESS)
def test_a_written_address_reads_back_with_its_display_name(display: str, address: str) -> None:
    written = str(HeaderAddress(display_name=display, addr_spec=address))
    defects: list[str] = []
    [parsed] = parse_addresses(written, "From", defects)
    assert parsed.address == address
    assert parsed.name == " ".join(display.split())


@settings(max_examples=300, deadline=None)
@given(ADDRESS, ADDRESS)
def test_the_angle_addr_is_the_sender_even_when_the_display_name_is_an_address(shown: str, real: str) -> None:
    defects: list[str] = []
    [parsed] = parse_addresses(f"{shown} <{real}>", "From", defects)
    assert parsed.address == real


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_no_header_text_makes_address_parsing_raise(value: str) -> None:
    defects: list[str] = []
    for found in parse_addresses(value, "From", defects):
        assert "@" in found.address or found.address.lower() in SYSTEM_MAILBOXES
        assert "\n" not in found.name and "\r" not in found.name


@settings(max_examples=200, deadline=None)
@given(ADDRESS, ADDRESS, st.sampled_from(["{}", "'{}'", "{} via Support", "Mail from {}", "{}."]))
def test_a_display_name_showing_another_address_is_a_spoof_sign(shown: str, real: str, form: str) -> None:
    parsed: MailParsed = mail(sender=real).payload
    with_name = parsed.model_copy(update={"from_": Address(name=form.format(shown), address=real)})
    assert (spoof_sign(with_name) is not None) == (shown.lower() != real.lower())


@settings(max_examples=200, deadline=None)
@given(ADDRESS, ADDRESS, st.sampled_from(["{}", "{} via Support", "Re {}"]))
def test_a_raw_from_whose_display_text_is_another_address_parses_to_a_spoof_sign(shown: str, real: str,
                                                                                  form: str) -> None:
    """``From: known@customer.example <other@elsewhere.example>``, unquoted as spoofers write it."""
    from tests.unit.parser.conftest import parse

    parsed = parse(f"From: {form.format(shown)} <{real}>\r\nSubject: s\r\n\r\nbody\r\n".encode())
    assert parsed.from_ is not None and parsed.from_.address == real
    assert (spoof_sign(parsed) is not None) == (shown.lower() != real.lower())
