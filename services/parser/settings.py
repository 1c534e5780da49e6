from shared.settings import TokenSecretSettings

from services.parser.limits import Limits


class ParserSettings(TokenSecretSettings):
    # Each limit sends a mail past it to the dead-letter queue with the reason; the raw mail stays in
    # the blob store. The defaults let real mail through and keep one parse well under a second.
    max_message_bytes: int = 50 * 1024 * 1024 + 1024 * 1024
    max_header_bytes: int = 256 * 1024  # one header block, the message's or a part's
    max_header_field_bytes: int = 64 * 1024  # one header field, unfolded
    max_mime_depth: int = 40
    max_mime_parts: int = 2000
    max_text_chars: int = 1_000_000
    # One mail's parse, wall clock: past it the mail is rejected, so no mail holds the stage longer.
    max_parse_seconds: float = 30.0

    @property
    def limits(self) -> Limits:
        return Limits(max_message_bytes=self.max_message_bytes, max_header_bytes=self.max_header_bytes,
                      max_header_field_bytes=self.max_header_field_bytes, max_depth=self.max_mime_depth,
                      max_parts=self.max_mime_parts, max_text_chars=self.max_text_chars,
                      max_seconds=self.max_parse_seconds)
