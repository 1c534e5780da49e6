"""``postroom accounts add``: a new account, asked for interactively (only the fields its provider
needs, the recommended defaults pre-filled, the password or client secret hidden) or given as
options by a script. Stored through the same validation and code path as ``accounts apply``."""

from __future__ import annotations

from typing import Any

import click

from services.cli.accountinput import parse_sets, refused, secret_from_stdin
from services.app.accountproviders import (
    PROVIDERS, SECRET_PROMPTS, SIGN_IN, Field, Provider, fields_of, needed_secret, providers, spec_of, start, xoauth2)
from services.cli.context import CliContext


def _value(field: Field, answer: Any) -> Any:
    if field.many and isinstance(answer, str):
        return [part.strip() for part in answer.split(",") if part.strip()]
    return answer


def _ask(field: Field, answers: dict[str, Any]) -> Any:
    default = field.default(answers) if field.default else None
    kind: Any = click.Choice(field.choices) if field.choices else (int if field.number else str)
    return click.prompt(field.prompt, default=default, type=kind, show_choices=bool(field.choices))


def _mapping_overrides(text: str) -> dict[str, str]:
    from shared.items.mapping import DEFAULT_MAPPING, MAIL_FIELDS

    pairs = dict(p.split("=", 1) for p in (s.replace(" ", "") for s in text.split(",")) if "=" in p)
    unknown = sorted(v for v in pairs.values() if v not in MAIL_FIELDS)
    if unknown:
        raise click.BadParameter(f"unknown mail field(s) {', '.join(unknown)} (known: {', '.join(MAIL_FIELDS)})")
    return {k: v for k, v in pairs.items() if DEFAULT_MAPPING.get(k) != v}


def _interactive(given: dict[str, Any]) -> tuple[Provider, dict[str, Any], dict[str, str]]:
    from shared.items.mapping import DEFAULT_MAPPING

    offered = providers()
    for number, p in enumerate(offered, start=1):
        click.echo(f"  {number}) {p.label}")
    choice = click.prompt("Provider", type=click.IntRange(1, len(offered)), default=1)
    provider = offered[choice - 1]
    answers = start(provider, given.get("oauth_provider"))
    for field in fields_of(provider, given.get("oauth_provider")):
        answer = given[field.option] if given.get(field.option) is not None else _ask(field, answers)
        answers[field.key] = _value(field, answer)
    secret: dict[str, str] = {}
    if needed := needed_secret(provider.kind, answers):
        secret[needed] = click.prompt(SECRET_PROMPTS[needed], hide_input=True)
    mapping = click.prompt("Field mapping (item field=mail field)",
                           default=", ".join(f"{k}={v}" for k, v in DEFAULT_MAPPING.items()))
    answers["field_mapping"] = _mapping_overrides(mapping)
    return provider, answers, secret


def _scripted(given: dict[str, Any], kind: str) -> tuple[Provider, dict[str, Any]]:
    provider = next(p for p in providers() if p.kind == kind)
    oauth = given.get("oauth_provider")
    if oauth and not xoauth2(provider, oauth):
        raise click.UsageError(f"--oauth-provider is for IMAP and POP3 accounts; a {kind} account signs in "
                               f"with {provider.oauth or 'nothing'} already")
    answers = start(provider, oauth)
    for field in fields_of(provider, oauth):
        if given.get(field.option) is not None:
            answers[field.key] = _value(field, given[field.option])
        elif field.key in ("port", "existing_mail"):
            continue  # the protocol's default for the TLS mode, resolved when read; the first-sync default
        elif field.default is not None:
            answers[field.key] = _value(field, field.default(answers))
        else:
            raise click.UsageError(f"a {kind} account needs --{field.option.replace('_', '-')}")
    return provider, answers


def _missing_secret(kind: str, needed: str, answers: dict[str, Any]) -> click.UsageError:
    if needed == "password":
        return click.UsageError(f"a {kind} account needs a password: --password-stdin or --app-password-stdin")
    why = "app-only sign-in" if answers.get("oauth.flow") == "client_credentials" else "Google sign-in"
    return click.UsageError(f"a {kind} account with {why} needs the app's client secret: --client-secret-stdin")


@click.command("add")
@click.option("--kind", type=click.Choice([p.kind for p in PROVIDERS]),
              help="The provider (graph: Microsoft 365, gmail: Google); given, nothing is asked (for scripts). "
                   "Without it, every field is asked.")
@click.option("--name")
@click.option("--address")
@click.option("--project")
@click.option("--host")
@click.option("--port", type=int)
@click.option("--tls", type=click.Choice(["implicit", "starttls", "none"]))
@click.option("--user")
@click.option("--folder")
@click.option("--path", help="A drop folder's folder.")
@click.option("--after-fetch", type=click.Choice(["delete", "move", "mark_read", "trash", "leave"]))
@click.option("--existing-mail", type=click.Choice(["archive", "import", "skip"]),
              help="Mail already in the mailbox at the first sync: archive (the default: closed items, no "
                   "auto-replies, left on the server), import (new items with auto-replies), skip.")
@click.option("--item-type")
@click.option("--client-id", help="OAuth: the application (client) id.")
@click.option("--tenant", help="Microsoft: the tenant (directory id or domain); default: the address's domain.")
@click.option("--flow", type=click.Choice(["device_code", "auth_code", "client_credentials"]),
              help="Microsoft: device_code (default), auth_code (browser sign-in) or client_credentials (app-only).")
@click.option("--oauth-provider", type=click.Choice(sorted(SIGN_IN)),
              help="IMAP/POP3: log in with XOAUTH2 and this provider's OAuth sign-in instead of a password.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Any other field (value in YAML; oauth.KEY for one field of the oauth: block).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin's first line.")
@click.option("--app-password-stdin", is_flag=True, help="Read an app password from stdin's first line.")
@click.option("--client-secret-stdin", is_flag=True,
              help="OAuth: read the app's client secret from stdin's first line.")
@click.option("--inactive", is_flag=True, help="Add it inactive: nothing is fetched until it is activated.")
@click.pass_obj
def add_command(ctx: CliContext, kind: str | None, sets: tuple[str, ...], password_stdin: bool,
                app_password_stdin: bool, client_secret_stdin: bool, inactive: bool, **options: Any) -> None:
    """Add an account: asks for the provider and its fields, or takes them as options with --kind."""
    from services.app.accountedits import add_account, with_sets
    from services.app.actors import OPERATOR

    given = {k: v for k, v in options.items() if v is not None}
    secret = secret_from_stdin(password_stdin, app_password_stdin, client_secret_stdin)
    if kind is None:
        provider, answers, asked = _interactive(given)
        secret = secret or asked
    else:
        provider, answers = _scripted(given, kind)
        needed = needed_secret(kind, answers)
        if needed and not (set(secret) & ({"password", "app_password"} if needed == "password" else {needed})):
            raise _missing_secret(kind, needed, answers)
    values = with_sets(spec_of(answers), parse_sets(sets)) | secret | ({"active": False} if inactive else {})
    notes: list[str] = []
    with refused(), ctx.sessions() as session, session.begin():
        add_account(session, OPERATOR, values, ctx.secret_box, notes)
    for note in notes:
        click.echo(f"warning: {note}", err=True)
    state = "inactive" if inactive else "active"
    name = values["name"]
    click.echo(f"+ {name} ({provider.kind}, {values['address']}, {state})")
    if values.get("oauth"):
        click.echo(f"  next: sign it in with 'postroom accounts connect {name}', then check it with "
                   f"'postroom accounts test {name}'")
    else:
        click.echo(f"  check it with 'postroom accounts test {name}'")
