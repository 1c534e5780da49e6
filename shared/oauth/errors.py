"""What a refused refresh means, and what the operator should do about it.

Microsoft answers with AADSTS codes (https://learn.microsoft.com/entra/identity-platform/
reference-error-codes); Google with an OAuth ``error`` string. A refusal needs a person: the account
goes into ``auth_failed`` and the token endpoint is not asked again until it is reconnected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RECONNECT = "run `postroom accounts connect {account}` to sign in again"


class AuthFailed(Exception):
    """The provider refused the sign-in: an operator must act (the message says how)."""


class TokenUnavailable(Exception):
    """The token endpoint could not be reached or answered with a passing error: try again later."""


_AADSTS: dict[int, str] = {
    50173: "the grant expired because the user's password was changed or reset; " + RECONNECT,
    70008: "the refresh token expired; " + RECONNECT,
    700082: "the refresh token expired after 90 days unused; " + RECONNECT,
    70000: "the grant was revoked or no longer covers the scopes; " + RECONNECT,
    70043: "a Conditional Access sign-in frequency policy ended the session; " + RECONNECT,
    50076: "multi-factor authentication is now required; " + RECONNECT,
    50079: "the user must register for multi-factor authentication; " + RECONNECT,
    50158: "an external security challenge is required; " + RECONNECT,
    53003: "a Conditional Access policy blocks the sign-in; ask the tenant admin to allow the app",
    65001: "the consent for the application is missing or was revoked; a tenant admin must grant consent "
           "(Enterprise applications > Permissions > Grant admin consent), then " + RECONNECT,
    65004: "the user declined consent; " + RECONNECT,
    700016: "the application (client_id) is not registered or not authorised in this tenant; check client_id "
            "and tenant, and have a tenant admin consent to it",
    7000112: "the application is disabled in the tenant; a tenant admin must enable it",
    7000215: "the client secret is wrong; set the current client_secret and `postroom accounts apply`",
    7000222: "the client secret expired; create a new one in the app registration, set client_secret and "
             "`postroom accounts apply`",
    50105: "the user is not assigned to the application; a tenant admin must assign them",
    50057: "the user account is disabled",
    50034: "the user account does not exist in the tenant",
    50020: "the user belongs to another tenant; set the account's tenant",
    90002: "the tenant does not exist; check the tenant setting",
    500011: "the resource (Exchange Online / Graph) is not available in the tenant; check the scopes",
}
_TRANSIENT = {"temporarily_unavailable", "server_error", "slow_down"}


def microsoft_failure(account: str, result: Mapping[str, Any]) -> Exception:
    error = str(result.get("error", "unknown_error"))
    codes = [int(c) for c in result.get("error_codes") or [] if str(c).isdigit()]
    if error in _TRANSIENT:
        return TokenUnavailable(f"Microsoft sign-in service: {error}")
    for code in codes:
        if code in _AADSTS:
            return AuthFailed(f"Microsoft refused the sign-in (AADSTS{code}): "
                              + _AADSTS[code].format(account=account))
    first = str(result.get("error_description", "")).split("\r\n")[0].split("\n")[0][:300]
    return AuthFailed(f"Microsoft refused the sign-in ({error}: {first}); " + RECONNECT.format(account=account))


_GOOGLE: dict[str, str] = {
    "invalid_grant": "the refresh token was revoked or expired (password change, access removed at "
                     "myaccount.google.com, or 7 days passed for an app whose consent screen is in Testing: "
                     "publish it to stop that); " + RECONNECT,
    "invalid_client": "the OAuth client id or secret is wrong or the client was deleted; fix client_id / "
                      "client_secret and `postroom accounts apply`",
    "deleted_client": "the OAuth client was deleted in the Google Cloud console; create one and reconnect",
    "unauthorized_client": "the OAuth client may not use this grant; check its type (Desktop app)",
    "admin_policy_enforced": "a Google Workspace admin blocks this app; ask them to trust it (API controls)",
    "access_denied": "access was denied; " + RECONNECT,
}


def google_failure(account: str, error: str, retryable: bool = False) -> Exception:
    if retryable or error in _TRANSIENT:
        return TokenUnavailable(f"Google sign-in service: {error}")
    hint = _GOOGLE.get(error, RECONNECT)
    return AuthFailed(f"Google refused the sign-in ({error}): " + hint.format(account=account))
