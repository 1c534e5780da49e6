"""Corpus expectations we judge wrong for us, each with its reason; and vectors out of scope."""

from __future__ import annotations

# Header vectors for fields we do not publish: counted in the report, not checked.
OUT_OF_SCOPE = {
    "received": "we publish no Received trace (it stays in the raw mail)",
    "list": "we publish no comma-list header (Keywords and the like)",
}

_RAW_8BIT = ("a raw 8-bit byte (0xF6, ö in Latin-1) in a header: stalwart keeps U+FFFD, we decode it as "
             "windows-1252 like mail clients do and record the defect")
_RAW_8BIT_NAME = ("a file name in raw 8-bit bytes (0xF6, ö in Latin-1): stalwart keeps U+FFFD where a clean "
                  "reading exists; we read it as windows-1252 and record the defect")
_LIST_URLS = "a List-* header of URLs, not an address list: we publish only mail addresses"
_COMMENT = "an RFC 5322 comment is not part of the display name; we drop it, stalwart appends it"
_BAD_TYPE = ("not a valid media type; RFC 2045 section 5.2 says to read it as text/plain, which we do "
             "(stalwart keeps the broken pieces)")
_SPACE = "stalwart inserts a space before an encoded word that follows text directly; RFC 2047 adds none"
KNOWN: dict[str, str] = {
    "stalwart-mail-parser:legacy/010": _RAW_8BIT,
    "stalwart-mail-parser:legacy/020": _RAW_8BIT,
    "stalwart-mail-parser:legacy/027": _RAW_8BIT,
    "stalwart-mail-parser:legacy/016": _RAW_8BIT_NAME,
    "stalwart-mail-parser:legacy/052": _RAW_8BIT + "; the body is declared Latin-1 and decodes cleanly as that",
    "stalwart-mail-parser:legacy/017": "x-uuencode: stalwart leaves the attachment encoded (1821 bytes); we decode "
                                       "it to the real 1298-byte PNG",
    "stalwart-mail-parser:legacy/026": "a text attachment in ISO-8859-1: stalwart counts its UTF-8 re-encoding, we "
                                       "keep and count the bytes as sent",
    "stalwart-mail-parser:legacy/045": "a text attachment: stalwart counts its UTF-8 re-encoding, we the bytes sent",
    "stalwart-mail-parser:legacy/047": "a text attachment: stalwart counts its UTF-8 re-encoding, we the bytes sent",
    "stalwart-mail-parser:rfc/000": "the base64 parts hold a placeholder sentence (RFC 2046's example); stalwart "
                                    "keeps the text, we decode what base64 there is and record the defect",
    "stalwart-headers:address/7": _COMMENT, "stalwart-headers:address/9": _COMMENT,
    "stalwart-headers:address/13": _COMMENT, "stalwart-headers:address/38": _COMMENT,
    **{f"stalwart-headers:address/{n}": _LIST_URLS for n in range(24, 32)},
    **{f"stalwart-headers:content_type/{n}": _BAD_TYPE for n in (25, 26, 29, 30, 36, 39, 46, 47, 48, 53, 54, 55, 70)},
    "stalwart-headers:content_type/19": "parameters without the ';' separators: the stdlib gives text/plain",
    "stalwart-headers:content_type/20": "parameters without the ';' separators: the stdlib gives text/plain",
    "stalwart-headers:date/9": "'4 8 15 16 23 42' is not a date; we record a defect instead of guessing 2015",
    "stalwart-headers:date/21": "'EST5EDT' is a POSIX zone name, not an RFC 5322 zone: we read -0000 (unknown)",
    "stalwart-headers:id/6": "a Message-ID with spaces and a comment inside the brackets is malformed; we publish no id rather than a wrong one",
    "stalwart-headers:unstructured/12": _SPACE, "stalwart-headers:unstructured/18": _SPACE,
    "stalwart-headers:unstructured/19": _SPACE,
    "redmine-mail-handler:ticket_from_emission_address.eml":
        "the tracker recognises its own From address from its configuration; the parser flags mail that "
        "comes back with our X-Postroom-Loop header, and the itemwriter knows the account's address",
    "redmine-mail-handler:ticket_with_empty_attachment.eml":
        "a zero-byte attachment is still an attachment the sender sent: we list it with size 0, and what to "
        "keep is the itemwriter's decision",
    "talon:reply-separated-by-hr.html":
        "talon drops 'Bob' (the sender's name above the rule) with its ML signature model; with no sender "
        "given we keep it, and with the sender known the signature rule removes it",
}
