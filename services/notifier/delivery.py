"""One SMTP send over the account's kept connection, its failures turned into the runner's
vocabulary: a server away (or answering 4xx) is waited out, a token not at hand is retried, a setup
error waits in the dead letters until the account is fixed, a refusal of the mail itself is that
send's outcome."""

from __future__ import annotations

from typing import Any

from services.notifier.intents import count
from services.notifier.senders import SenderPool
from services.notifier.smtp import PermanentSendFailure, ServerUnavailable, SmtpSetupFailure, TransientSendFailure
from shared.errors import Reject, RetryLater, WaitOut
from shared.oauth.errors import AuthFailed, TokenUnavailable


def send(senders: SenderPool, account: Any, data: bytes, *, envelope_from: str, recipients: list[str], kind: str,
         deferring: set[str]) -> tuple[str, str]:
    """("sent", "") or ("failed", the server's refusal); raises WaitOut, RetryLater or Reject otherwise.
    ``account`` has ``name``, ``config`` and ``sealed``; a server that did not answer joins ``deferring``."""
    try:
        sender = senders.for_account(account.name, account.config, account.sealed)
        sender.send(data, envelope_from=envelope_from, recipients=recipients)
    except TransientSendFailure as exc:
        if isinstance(exc, ServerUnavailable):
            deferring.add(account.name)
        count(kind, account.name, "deferred")
        raise WaitOut(f"SMTP: {exc}") from None
    except TokenUnavailable as exc:
        raise RetryLater(f"OAuth token for SMTP: {exc}") from None
    except (SmtpSetupFailure, AuthFailed, ValueError) as exc:
        # Waits in the dead-letter queue: replay it once the account is fixed or reconnected.
        raise Reject(f"SMTP setup of account {account.name}: {exc}") from None
    except PermanentSendFailure as exc:
        return "failed", str(exc)
    return "sent", ""
