from shared.settings import CommonSettings


class ParserSettings(CommonSettings):
    max_message_bytes: int = 50 * 1024 * 1024 + 1024 * 1024
    max_text_chars: int = 1_000_000
