"""The SMTP adapter against aiosmtpd: TLS verified or refused, never a silent downgrade; XOAUTH2."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from services.notifier.smtp import SmtpSender, SmtpSetupFailure
from tests.support.pipeline import TOKEN_SECRET
from tests.support.servers import free_port
from tests.support.smtp import RecordingHandler
from tests.support.tls import TestPki, make_pki


class XOAuth2Handler(RecordingHandler):
    def __init__(self, good_token: str) -> None:
        super().__init__()
        self.good_token = good_token
        self.seen: list[str] = []

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:  # noqa: N802 (aiosmtpd's name)
        decoded = base64.b64decode(args[1]).decode()  # args: mechanism, initial response
        self.seen.append(decoded)
        ok = decoded == f"user=ada@example.com\x01auth=Bearer {self.good_token}\x01\x01"
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends the 235/535


def message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "support@example.test", "ada@example.com", "hello"
    msg.set_content("hi")
    return msg


@pytest.fixture
def pki(tmp_path: Path) -> TestPki:
    return make_pki(tmp_path)


def serve(handler: Any, **kwargs: Any) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


@pytest.fixture
def starttls_server(pki: TestPki) -> Iterator[tuple[RecordingHandler, int]]:
    handler = RecordingHandler()
    controller, port = serve(handler, tls_context=pki.server_context(), require_starttls=True)
    yield handler, port
    controller.stop()


def test_starttls_to_a_server_whose_certificate_we_do_not_trust_is_refused(
        starttls_server: tuple[RecordingHandler, int]) -> None:
    handler, port = starttls_server
    import ssl

    sender = SmtpSender("127.0.0.1", port, tls="starttls", ssl_context=ssl.create_default_context(cafile=None, capath=None,
                                                                                                   cadata=None))
    with pytest.raises(SmtpSetupFailure, match="TLS"):
        sender.send(message(), "support@example.test", ["ada@example.com"])
    assert handler.received == []


def test_starttls_to_a_trusted_server_delivers(starttls_server: tuple[RecordingHandler, int], pki: TestPki) -> None:
    handler, port = starttls_server
    SmtpSender("127.0.0.1", port, tls="starttls", ssl_context=pki.client_context_trusting_ca()).send(
        message(), "support@example.test", ["ada@example.com"])
    assert [r.rcpt_tos for r in handler.received] == [["ada@example.com"]]


def test_a_server_that_does_not_offer_starttls_gets_no_mail_and_no_password() -> None:
    handler = RecordingHandler()
    controller, port = serve(handler)
    try:
        sender = SmtpSender("127.0.0.1", port, tls="starttls", user="ada", password="hunter2")
        with pytest.raises(SmtpSetupFailure, match="does not offer STARTTLS"):
            sender.send(message(), "support@example.test", ["ada@example.com"])
        assert handler.received == []
    finally:
        controller.stop()


def test_implicit_tls_verifies_the_certificate(pki: TestPki) -> None:
    handler = RecordingHandler()
    controller, port = serve(handler, ssl_context=pki.server_context())
    try:
        import ssl

        with pytest.raises(SmtpSetupFailure, match="TLS"):
            SmtpSender("127.0.0.1", port, tls="implicit", ssl_context=ssl.create_default_context(cadata=None)).send(
                message(), "support@example.test", ["ada@example.com"])
        SmtpSender("127.0.0.1", port, tls="implicit", ssl_context=pki.client_context_trusting_ca()).send(
            message(), "support@example.test", ["ada@example.com"])
        assert len(handler.received) == 1
    finally:
        controller.stop()


def test_xoauth2_logs_in_with_the_accounts_token_and_a_bad_token_is_refused() -> None:
    handler = XOAuth2Handler(good_token="ya29.good")
    controller, port = serve(handler, auth_require_tls=False)
    try:
        SmtpSender("127.0.0.1", port, user="ada@example.com", oauth_token=lambda: "ya29.good").send(
            message(), "support@example.test", ["ada@example.com"])
        assert len(handler.received) == 1
        with pytest.raises(SmtpSetupFailure, match="login"):
            SmtpSender("127.0.0.1", port, user="ada@example.com", oauth_token=lambda: "expired").send(
                message(), "support@example.test", ["ada@example.com"])
        assert len(handler.received) == 1
    finally:
        controller.stop()


def test_one_connection_carries_several_messages() -> None:
    handler = RecordingHandler()
    connections: list[Any] = []

    class Counting(RecordingHandler):
        async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]):  # noqa: N802
            connections.append(session.peer)
            session.host_name = hostname  # aiosmtpd leaves this to a handler that hooks EHLO
            return responses

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            return await handler.handle_DATA(server, session, envelope)

    controller, port = serve(Counting())
    try:
        sender = SmtpSender("127.0.0.1", port)
        for _ in range(3):
            sender.send(message(), "support@example.test", ["ada@example.com"])
        assert len(handler.received) == 3
        assert len({peer for peer in connections}) == 1
    finally:
        controller.stop()


def test_an_account_with_smtp_xoauth2_sends_with_its_own_sign_in_token() -> None:
    from services.notifier.senders import SenderPool
    from services.notifier.settings import NotifierSettings
    from shared.secrets import SecretBox

    handler = XOAuth2Handler(good_token="ya29.support")
    controller, port = serve(handler, auth_require_tls=False)
    asked: list[str] = []

    def provider(account: str):  # the shape of shared.oauth.tokens.TokenProvider
        asked.append(account)
        return lambda: "ya29.support"

    try:
        pool = SenderPool(NotifierSettings(token_secret=TOKEN_SECRET), "", SecretBox([]), provider)
        config = {"smtp": {"host": "127.0.0.1", "port": port, "tls": "none", "user": "ada@example.com",
                           "auth": "xoauth2"}}
        pool.for_account("support", config, None).send(message(), "support@example.test", ["ada@example.com"])
        assert asked == ["support"] and len(handler.received) == 1
    finally:
        controller.stop()
