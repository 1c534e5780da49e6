"""What adding an account offers, in ``postroom accounts add`` and the console's form alike: each
provider with only the fields it needs and the recommended defaults, the OAuth sign-in fields of
Microsoft 365 and Google (the account's ``oauth:`` block), the secret each needs, and the item
settings every account carries (``AccountSpec``), in the form's sections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Default = Callable[[dict[str, Any]], Any]  # from the answers so far
XOAUTH2_KINDS = ("imap", "pop3")


@dataclass(frozen=True)
class Field:
    key: str  # a dotted key ("oauth.client_id") lands in the nested block of the spec
    prompt: str
    default: Default | None = None
    choices: tuple[str, ...] = ()
    number: bool = False
    many: bool = False  # a comma-separated answer is a list
    boolean: bool = False  # on or off (a checkbox)
    catalog: str = ""  # chosen from the declared catalog: item_types, projects, users, statuses
    optional: bool = False  # may be left empty (then not set)

    @property
    def option(self) -> str:
        """The option that gives it in script mode (``oauth.client_id``: ``--client-id``)."""
        return self.key.rpartition(".")[2]


@dataclass(frozen=True)
class Provider:
    kind: str
    label: str
    fields: tuple[Field, ...]
    oauth: str | None = None  # the OAuth provider it signs in with (Microsoft 365, Google)


def _tls_port(implicit: int, plain: int) -> Default:
    return lambda a: implicit if a.get("tls", "implicit") == "implicit" else plain


def _domain(answers: dict[str, Any]) -> str:
    return str(answers.get("address", "")).rpartition("@")[2] or "organizations"


_TLS = Field("tls", "TLS (implicit: from the first byte; starttls; none: trusted network only)",
             lambda a: "implicit", ("implicit", "starttls", "none"))
_USER = Field("user", "User name", lambda a: a.get("address"))
# The first sync: what becomes of the mail already in the mailbox (existing_mail, shared/mailboxes/mailconfig.py).
_EXISTING = Field("existing_mail", "Mail already in the mailbox (archive: stored as closed items, nobody is "
                                   "answered, left on the server as it is; import: new items with auto-replies, "
                                   "then the after-import action; skip: only mail that arrives from now on)",
                  lambda a: "archive", ("archive", "import", "skip"))
# The sign-in fields of each OAuth provider: the account's ``oauth:`` block (shared/oauth/config.py).
SIGN_IN = {
    "microsoft": (
        Field("oauth.client_id", "Application (client) id of the app registration"),
        # The address's domain names the tenant for most; "organizations" lets any work account in.
        Field("oauth.tenant", "Tenant (directory id or domain)", _domain),
        Field("oauth.flow", "Sign-in (device_code: a person signs in once with a code; auth_code: in a browser, "
                            "where device code is blocked; client_credentials: app-only, for shared mailboxes)",
              lambda a: "device_code", ("device_code", "auth_code", "client_credentials")),
    ),
    "google": (Field("oauth.client_id", "OAuth client id (a Desktop app client: ...apps.googleusercontent.com)"),),
}
PROVIDERS = (
    Provider("graph", "Microsoft 365 (Graph API, OAuth sign-in)", (
        *SIGN_IN["microsoft"],
        Field("folder", "Folder to read (a well-known name such as inbox, or a folder id)", lambda a: "inbox"),
        # Delete after read: the mailbox does not grow, and a mail is deleted only once it is stored.
        Field("after_fetch", "After a mail is imported", lambda a: "delete", ("delete", "mark_read", "leave")),
        _EXISTING,
    ), oauth="microsoft"),
    Provider("gmail", "Google (Gmail API, OAuth sign-in)", (
        *SIGN_IN["google"],
        Field("labels", "Labels to read (label ids, comma-separated; ALL for All Mail)", lambda a: "INBOX",
              many=True),
        Field("after_fetch", "After a mail is imported", lambda a: "trash", ("trash", "mark_read", "leave")),
        _EXISTING,
    ), oauth="google"),
    Provider("imap", "Other IMAP", (
        Field("host", "IMAP server"), _TLS, Field("port", "Port", _tls_port(993, 143), number=True), _USER,
        Field("folder", "Folder to read", lambda a: "INBOX"),
        Field("after_fetch", "After a mail is imported", lambda a: "delete", ("delete", "mark_read", "leave")),
        _EXISTING,
    )),
    Provider("pop3", "Other POP3", (
        Field("host", "POP3 server"), _TLS, Field("port", "Port", _tls_port(995, 110), number=True), _USER,
        Field("after_fetch", "After a mail is imported", lambda a: "delete", ("delete", "leave")),
        _EXISTING,
    )),
    Provider("dropfolder", "Drop folder (an MTA or a script puts raw mails there)", (
        Field("path", "Folder", lambda a: f"var/inbox/{a['name']}"),
    )),
)
_COMMON = (Field("name", "Account name"), Field("address", "Address (auto-replies come from it)"),
           Field("project", "Project (items are created in it)"))
_ITEM = (Field("item_type", "Item type", lambda a: "incident"),)
SECRET_PROMPTS = {"password": "Password (an app password if the account uses two-factor sign-in)",
                  "client_secret": "Client secret of the app (kept sealed)"}


def _spec_default(key: str) -> Default:
    from shared.accounts.specs import AccountSpec

    field = AccountSpec.model_fields.get(key)
    return lambda a: field.default if field is not None else False


# The item settings of every account (AccountSpec and the notifier's auto_reply_cc), by section.
SETTINGS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    ("Creating items", (
        Field("item_type", "Item type", lambda a: "incident", catalog="item_types"),
        Field("project", "Project (items are created in it)", catalog="projects"),
        Field("creator", "Creator (the user listed as the items' creator)", catalog="users", optional=True),
        Field("save_attachments", "Save attachments", _spec_default("save_attachments"), boolean=True),
        Field("add_sender_to_notify", "Add the sender to the notification list",
              _spec_default("add_sender_to_notify"), boolean=True),
        Field("map_senders", "Map senders to the known customers and users",
              _spec_default("map_senders"), boolean=True),
        Field("quiet_on_create", "No separate notification when an item is created from a mail",
              _spec_default("quiet_on_create"), boolean=True),
    )),
    ("Email account actions", (
        Field("reply_status", "A reply to an item sets its status to", catalog="statuses", optional=True),
        Field("reply_moves_step", "A reply moves the item to its step's \"on new mail\" step",
              _spec_default("reply_moves_step"), boolean=True),
    )),
    ("Auto-reply", (
        Field("auto_reply", "Send an auto-reply to a new item's sender", _spec_default("auto_reply"), boolean=True),
        Field("auto_reply_cc", "Send it to the mail's Cc too", _spec_default("auto_reply_cc"), boolean=True),
        Field("auto_reply_same_thread", "Auto-reply also to a mail that answers one of ours",
              _spec_default("auto_reply_same_thread"), boolean=True),
    )),
)
SETTING_KEYS = frozenset(f.key for _, fields in SETTINGS for f in fields)
# The field whose value is one of the mailbox's folders (Gmail: labels), loaded by "Refresh Folders".
FOLDER_FIELDS = ("folder", "labels")


def providers() -> list[Provider]:
    """The providers whose kind the accounts model knows."""
    from shared.accounts.specs import KINDS

    return [p for p in PROVIDERS if p.kind in KINDS]


def needed_secret(kind: str, answers: dict[str, Any]) -> str | None:
    """The secret the account cannot work without: a password (IMAP/POP3 without OAuth), the client
    secret (Google's clients, and Microsoft's app-only sign-in), or none (a device code sign-in)."""
    oauth = answers.get("oauth.provider")
    if oauth == "google" or answers.get("oauth.flow") == "client_credentials":
        return "client_secret"
    return "password" if oauth is None and kind in XOAUTH2_KINDS else None


def provider_of(kind: str) -> Provider:
    """The provider of an account of ``kind`` (KeyError for a kind no provider offers, such as stdin)."""
    found = {p.kind: p for p in providers()}
    return found[kind]


def start(provider: Provider, oauth: str | None = None) -> dict[str, Any]:
    """The answers every account of ``provider`` begins with: its kind, the OAuth provider it signs in
    with (IMAP/POP3 with ``oauth``: XOAUTH2)."""
    answers: dict[str, Any] = {"kind": provider.kind}
    if provider.oauth:
        answers["oauth.provider"] = provider.oauth
    elif xoauth2(provider, oauth):
        answers |= {"oauth.provider": oauth, "auth": "xoauth2"}
    return answers


def form_fields(provider: Provider) -> tuple[Field, ...]:
    """The connection part of the console's form: name, address, the provider's own fields (the item
    settings are in ``SETTINGS``)."""
    return tuple(f for f in fields_of(provider, None) if f.key not in SETTING_KEYS)


def form_secrets(provider: Provider) -> tuple[str, ...]:
    """The secrets the form takes (write-only): a password (IMAP/POP3), the app's client secret (Google's
    clients; Microsoft's app-only sign-in)."""
    if provider.oauth:
        return ("client_secret",)
    return ("password",) if provider.kind in XOAUTH2_KINDS else ()


def xoauth2(provider: Provider, oauth: str | None) -> bool:
    """An IMAP/POP3 account logging in with an OAuth provider's access token instead of a password."""
    return bool(oauth) and provider.kind in XOAUTH2_KINDS


def fields_of(provider: Provider, oauth: str | None) -> tuple[Field, ...]:
    """What is asked: the common fields, the provider's, a sign-in for IMAP/POP3 with XOAUTH2, the item's."""
    sign_in = SIGN_IN[oauth] if oauth and xoauth2(provider, oauth) else ()
    return (*_COMMON, *provider.fields, *sign_in, *_ITEM)


def spec_of(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers as the spec ``accounts apply`` takes: ``oauth.*`` answers nested in its ``oauth:`` block
    (the default flow left out, as in the README's examples)."""
    spec = {k: v for k, v in answers.items() if not k.startswith("oauth.")}
    oauth = {k.partition(".")[2]: v for k, v in answers.items() if k.startswith("oauth.")}
    if oauth.get("flow") == "device_code":
        del oauth["flow"]
    return spec | ({"oauth": oauth} if oauth else {})
