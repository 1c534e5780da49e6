"""``postroom accounts connect NAME`` (OAuth sign-in) and ``postroom accounts tokens`` (token health).

Microsoft: device code (a code to enter at microsoft.com/devicelogin from any browser, so it works on
a headless server or through ``kubectl exec``), the authorization code flow with PKCE (``flow:
auth_code``, for tenants that block device code: the person picks the account and consents in a
browser), or client credentials (app-only, nothing to enter).
Google, and Microsoft's auth_code: a loopback redirect caught on 127.0.0.1, or with ``--no-browser``
the address the browser ended on (or just its code) pasted back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from services.cli.context import CliContext


def oauth_parts(ctx: CliContext) -> tuple[Any, Any]:
    """The OAuth accounts' authenticators and their stored sign-ins."""
    from shared.oauth.accounts import AccountAuthenticators
    from shared.oauth.store import TokenStore

    return AccountAuthenticators(ctx.sessions, ctx.secret_box), TokenStore(ctx.sessions, ctx.secret_box)


@click.command("connect")
@click.argument("name")
@click.option("--no-browser", is_flag=True,
              help="Google, Microsoft auth_code: paste the address the browser ended on.")
@click.option("--port", default=0,
              help="Google, Microsoft auth_code: the loopback port (0: any free port; with --no-browser 8765).")
@click.pass_obj
def connect_command(ctx: CliContext, name: str, no_browser: bool, port: int) -> None:
    """Sign account NAME in with OAuth and store its tokens sealed."""
    from services.cli.browser_signin import google_sign_in, microsoft_sign_in
    from shared.oauth.errors import AuthFailed, TokenUnavailable

    authenticators, store = oauth_parts(ctx)
    # An inactive account may be signed in first, then activated: it never starts with a failure.
    config = authenticators.configs(include_inactive=True).get(name)
    if config is None:
        raise click.ClickException(f"no account {name!r} with an oauth: block (postroom accounts apply)")
    try:
        auth = authenticators(name)
        if config.resolved_flow == "client_credentials":
            grant = auth.sign_in_app_only()
        elif config.resolved_flow == "auth_code":
            grant = microsoft_sign_in(auth, no_browser, port)
        elif config.provider == "microsoft":
            flow, cache = auth.start_device_flow()
            click.echo(flow["message"])
            grant = auth.finish_device_flow(flow, cache)
        else:
            grant = google_sign_in(auth, no_browser, port)
    except (AuthFailed, TokenUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    store.connected(name, config.provider, config.resolved_flow, grant.cache, grant.expires_at, datetime.now(UTC))
    from services.app.accounts import wake

    with ctx.sessions() as session, session.begin():  # signed in: the fetcher tries it now
        wake(session, name)
    click.echo(f"{name}: signed in ({config.provider}, {config.resolved_flow}); access token valid until "
               f"{grant.expires_at:%Y-%m-%d %H:%M} UTC")


@click.command("tokens")
@click.option("--warn-days", default=3.0, show_default=True, help="Flag sign-ins that lapse sooner.")
@click.pass_obj
def tokens_command(ctx: CliContext, warn_days: float) -> None:
    """The token health of every OAuth account."""
    from shared.oauth.health import token_health

    authenticators, store = oauth_parts(ctx)
    now = datetime.now(UTC)
    records = {r.account: r for r in store.all()}
    configs = authenticators.configs()
    for name, config in sorted(configs.items()):
        h = token_health(records.get(name), config, name, now)
        left = h.days_left(now)
        lapse = (f"lapses {h.lapses_at:%Y-%m-%d} ({left:.1f} days)" if h.lapses_at and left is not None
                 else "lapse unknown")
        flag = "  <-- reconnect soon" if left is not None and left < warn_days else ""
        access = f"access until {h.access_expires_at:%Y-%m-%d %H:%M}" if h.access_expires_at else "no access token"
        age = (f"refresh token {h.refresh_age_days:.1f}/{h.refresh_lifetime_days:.0f} days"
               if h.refresh_age_days is not None else "")
        click.echo(f"{name:<20} {h.provider:<10} {h.state:<13} {access}  {age}  {lapse}{flag}")
        if h.last_error:
            click.echo(f"{'':<20} last error: {h.last_error}")
    if not configs:
        click.echo("no OAuth accounts")
