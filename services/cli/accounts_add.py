"""``postroom accounts add``: a new account, asked for interactively (only the fields its provider
needs, the recommended defaults pre-filled, the password hidden) or given as options by a script.
Stored through the same validation and code path as ``accounts apply``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from services.cli.accountinput import invalid, parse_sets, secret_from_stdin
from services.cli.context import CliContext

Default = Callable[[dict[str, Any]], Any]  # from the answers so far


@dataclass(frozen=True)
class Field:
    key: str
    prompt: str
    default: Default | None = None
    choices: tuple[str, ...] = ()
    number: bool = False


@dataclass(frozen=True)
class Provider:
    kind: str
    label: str
    fields: tuple[Field, ...]
    password: bool


def _tls_port(implicit: int, plain: int) -> Default:
    return lambda a: implicit if a.get("tls", "implicit") == "implicit" else plain


_TLS = Field("tls", "TLS (implicit: from the first byte; starttls; none: trusted network only)",
             lambda a: "implicit", ("implicit", "starttls", "none"))
_USER = Field("user", "User name", lambda a: a.get("address"))
# The OAuth kinds (Microsoft 365, Google) add their providers here with their kinds.
PROVIDERS = (
    Provider("imap", "Other IMAP", (
        Field("host", "IMAP server"), _TLS, Field("port", "Port", _tls_port(993, 143), number=True), _USER,
        Field("folder", "Folder to read", lambda a: "INBOX"),
        # Delete after read: the mailbox does not grow, and a mail is deleted only once it is stored.
        Field("after_fetch", "After a mail is imported", lambda a: "delete", ("delete", "mark_read", "leave")),
    ), password=True),
    Provider("pop3", "Other POP3", (
        Field("host", "POP3 server"), _TLS, Field("port", "Port", _tls_port(995, 110), number=True), _USER,
        Field("after_fetch", "After a mail is imported", lambda a: "delete", ("delete", "leave")),
    ), password=True),
    Provider("dropfolder", "Drop folder (an MTA or a script puts raw mails there)", (
        Field("path", "Folder", lambda a: f"var/inbox/{a['name']}"),
    ), password=False),
)
_COMMON = (Field("name", "Account name"), Field("address", "Address (auto-replies come from it)"),
           Field("project", "Project (items are created in it)"))
_ITEM = (Field("item_type", "Item type", lambda a: "incident"),)


def providers() -> list[Provider]:
    """The providers whose kind the accounts model knows."""
    from services.fetcher.accounts import KINDS

    return [p for p in PROVIDERS if p.kind in KINDS]


def _ask(field: Field, answers: dict[str, Any]) -> Any:
    default = field.default(answers) if field.default else None
    kind: Any = click.Choice(field.choices) if field.choices else (int if field.number else str)
    return click.prompt(field.prompt, default=default, type=kind, show_choices=bool(field.choices))


def _mapping_overrides(text: str) -> dict[str, str]:
    from services.itemwriter.mapping import DEFAULT_MAPPING, MAIL_FIELDS

    pairs = dict(p.split("=", 1) for p in (s.replace(" ", "") for s in text.split(",")) if "=" in p)
    unknown = sorted(v for v in pairs.values() if v not in MAIL_FIELDS)
    if unknown:
        raise click.BadParameter(f"unknown mail field(s) {', '.join(unknown)} (known: {', '.join(MAIL_FIELDS)})")
    return {k: v for k, v in pairs.items() if DEFAULT_MAPPING.get(k) != v}


def _interactive(given: dict[str, Any], provider_kind: str | None) -> tuple[Provider, dict[str, Any], dict[str, str]]:
    from services.itemwriter.mapping import DEFAULT_MAPPING

    offered = providers()
    if provider_kind is None:
        for number, p in enumerate(offered, start=1):
            click.echo(f"  {number}) {p.label}")
        choice = click.prompt("Provider", type=click.IntRange(1, len(offered)), default=1)
        provider = offered[choice - 1]
    else:
        provider = next(p for p in offered if p.kind == provider_kind)
    answers: dict[str, Any] = {"kind": provider.kind}
    for field in (*_COMMON, *provider.fields, *_ITEM):
        answers[field.key] = given[field.key] if given.get(field.key) is not None else _ask(field, answers)
    secret: dict[str, str] = {}
    if provider.password:
        secret["password"] = click.prompt("Password (an app password if the account uses two-factor sign-in)",
                                          hide_input=True)
    mapping = click.prompt("Field mapping (item field=mail field)",
                           default=", ".join(f"{k}={v}" for k, v in DEFAULT_MAPPING.items()))
    answers["field_mapping"] = _mapping_overrides(mapping)
    return provider, answers, secret


def _scripted(given: dict[str, Any], kind: str) -> tuple[Provider, dict[str, Any]]:
    provider = next(p for p in providers() if p.kind == kind)
    answers: dict[str, Any] = {"kind": kind}
    for field in (*_COMMON, *provider.fields, *_ITEM):
        if given.get(field.key) is not None:
            answers[field.key] = given[field.key]
        elif field.key == "port":
            continue  # the protocol's default for the TLS mode, resolved when read
        elif field.default is not None:
            answers[field.key] = field.default(answers)
        else:
            raise click.UsageError(f"a {kind} account needs --{field.key.replace('_', '-')}")
    return provider, answers


@click.command("add")
@click.option("--kind", type=click.Choice([p.kind for p in PROVIDERS]),
              help="The provider; given, nothing is asked (for scripts). Without it, every field is asked.")
@click.option("--name")
@click.option("--address")
@click.option("--project")
@click.option("--host")
@click.option("--port", type=int)
@click.option("--tls", type=click.Choice(["implicit", "starttls", "none"]))
@click.option("--user")
@click.option("--folder")
@click.option("--path", help="A drop folder's folder.")
@click.option("--after-fetch", type=click.Choice(["delete", "move", "mark_read", "leave"]))
@click.option("--item-type")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Any other field (value in YAML).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin's first line.")
@click.option("--app-password-stdin", is_flag=True, help="Read an app password from stdin's first line.")
@click.option("--inactive", is_flag=True, help="Add it inactive: nothing is fetched until it is activated.")
@click.pass_obj
def add_command(ctx: CliContext, kind: str | None, sets: tuple[str, ...], password_stdin: bool,
                app_password_stdin: bool, inactive: bool, **options: Any) -> None:
    """Add an account: asks for the provider and its fields, or takes them as options with --kind."""
    from pydantic import ValidationError

    from services.fetcher.accountedit import find_account, store

    given = {k: v for k, v in options.items() if v is not None}
    secret = secret_from_stdin(password_stdin, app_password_stdin)
    if kind is None:
        provider, answers, asked = _interactive(given, None)
        secret = secret or asked
    else:
        provider, answers = _scripted(given, kind)
        if provider.password and not secret:
            raise click.UsageError(f"a {kind} account needs a password: --password-stdin or --app-password-stdin")
    values = answers | parse_sets(sets) | secret | ({"active": False} if inactive else {})
    with ctx.sessions() as session, session.begin():
        if find_account(session, values["name"]) is not None:
            raise click.ClickException(f"account {values['name']!r} exists already: change it with "
                                       f"'postroom accounts edit {values['name']}'")
        try:
            store(session, values, ctx.secret_box)
        except ValidationError as exc:
            raise invalid(values["name"], exc, secret) from None
    state = "inactive" if inactive else "active"
    click.echo(f"+ {values['name']} ({provider.kind}, {values['address']}, {state})")
    click.echo(f"  check it with 'postroom accounts test {values['name']}'")
