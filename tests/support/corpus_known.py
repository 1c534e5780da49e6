"""Corpus expectations that are demonstrably wrong (or that no parse of the mail can meet), each
with its reason in one line; and vectors out of scope."""

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
_LIST_URLS = "a List-* header holds URLs (RFC 2369), not mailboxes: 'http://...' is no mail address"
_COMMENT = ("RFC 5322 section 3.4: the display name is the phrase before the angle-addr; stalwart appends the "
            "comments to it (a comment names an address only when there is no phrase, which we do)")
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
    "stalwart-mail-parser:rfc/000": "the base64 parts hold a placeholder sentence (RFC 2046's example): stalwart "
                                    "counts the undecoded text as the bytes; we decode what base64 there is",
    "stalwart-headers:address/7": _COMMENT, "stalwart-headers:address/9": _COMMENT,
    "stalwart-headers:address/13": _COMMENT, "stalwart-headers:address/38": _COMMENT,
    **{f"stalwart-headers:address/{n}": _LIST_URLS for n in range(24, 32)},
    **{f"stalwart-headers:content_type/{n}": _BAD_TYPE for n in (25, 26, 29, 30, 36, 39, 46, 47, 48, 53, 54, 55, 70)},
    "stalwart-headers:date/9": "'4 8 15 16 23 42' is not a date; we record a defect instead of guessing 2015",
    "stalwart-headers:date/21": "'EST5EDT' is a POSIX zone, not an RFC 5322 one, and in July it is EDT (-0400): "
                                "stalwart's -0500 is wrong either way; we read -0000 (zone unknown)",
    "stalwart-headers:id/6": "stalwart's id keeps the spaces and the comment '(blah)' of a malformed Message-ID, "
                             "which no other mail names that way; we publish no id rather than a wrong one",
    "stalwart-headers:unstructured/12": _SPACE, "stalwart-headers:unstructured/18": _SPACE,
    "stalwart-headers:unstructured/19": _SPACE,
    "redmine-mail-handler:ticket_from_emission_address.eml":
        "the expectation rests on Redmine's configured emission address, which nothing in the mail names; "
        "our own mail is known by its signed X-Postroom-Loop header",
    "redmine-mail-handler:ticket_with_empty_attachment.eml":
        "the mail has a Content-Disposition: attachment part (response.json, 0 bytes); not storing it is "
        "Redmine's choice, and a parse that lists no attachment misstates the mail",
    "talon:reply-separated-by-hr.html":
        "talon drops 'Bob' (the sender's name above the rule) with its ML signature model; with no sender "
        "given we keep it, and with the sender known the signature rule removes it",
}
