"""Adding, changing, copying, deleting and declaring accounts, for the CLI and the API alike. Every
change is validated through ``AccountSpec`` and stored through ``apply_specs`` (secrets sealed the
same way); answers and refusals never carry a secret's value."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from services.app.accountchecks import FOLDER_KEYS, check_named_folders
from services.app.accounts import wake
from services.app.actors import Actor
from services.app.errors import Conflict, Invalid, NotFound
from shared.accounts.edit import diff_lines, find_account, spec_values, store
from shared.accounts.readers import MailboxTaken
from shared.accounts.specs import CATALOG_KEYS, SECRET_FIELDS, AccountSpec, apply_specs, did_you_mean
from shared.accounts.state import ACCOUNT_HISTORY, ACCOUNT_STATE, account_counts, forget_account, live_reader
from shared.clock import as_utc
from shared.db.models import Account
from shared.items.declare import CatalogSpec, apply_catalog
from shared.items.validation import account_field_problems
from shared.secrets import SecretBox, SecretsUnavailable, mask_secrets


def with_sets(values: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``values`` with ``changes`` applied; a dotted key (``oauth.tenant``) changes one field of a block."""
    merged = dict(values)
    for key, value in changes.items():
        block, dot, field = key.partition(".")
        if dot:
            merged[block] = {**(merged.get(block) or {}), field: value}
        else:
            merged[key] = value
    return merged


# A problem the spec's own checks raise for the whole account, by the field it is about.
_LEADING_FIELD = re.compile(r"^([a-z_]+(?:\.[a-z_]+)*): ")
_NEEDS = {"needs password": "password", "needs an oauth": "oauth.client_id", "needs the app's client secret":
          "client_secret", "signs in with": "oauth.provider"}


def _field_of(where: str, message: str) -> str | None:
    if where:
        return where
    if found := _LEADING_FIELD.match(message):
        return found.group(1)
    return next((field for words, field in _NEEDS.items() if words in message), None)


def spec_field_problems(exc: ValidationError) -> list[tuple[str | None, str]]:
    """(field, problem) of each problem of an account spec, the problem naming the field first, without
    the values that were given (one may be a password)."""
    problems: list[tuple[str | None, str]] = []
    for error in exc.errors(include_input=False, include_url=False):
        message, where = error["msg"].removeprefix("Value error, "), ".".join(map(str, error["loc"]))
        problems.append((_field_of(where, message), f"{where}: {message}" if where else message))
    return problems


def spec_problems(exc: ValidationError) -> list[str]:
    """Each problem of an account spec on one line, the field first, without the values given."""
    return [line for _, line in spec_field_problems(exc)]


def invalid(name: str, exc: ValidationError, secrets: dict[str, Any]) -> Invalid:
    """The problems of an account spec on one line (and each with its field), without the values that
    were given."""
    problems = [(field, mask_secrets(line, secrets)) for field, line in spec_field_problems(exc)]
    named = all(f"account {name!r}" in line for _, line in problems)
    message = ("" if named else f"account {name!r} not valid: ") + "; ".join(line for _, line in problems)
    return Invalid(message, field=problems[0][0] if problems else None, field_problems=tuple(problems))


def refuse_unfit(session: Session, specs: list[AccountSpec], where: str = "") -> None:
    """Refuse, storing nothing, accounts whose item settings do not fit the catalog (one line, and
    each problem with its field)."""
    problems = account_field_problems(session, specs)
    if problems:
        raise Invalid(f"{where}nothing stored: " + "; ".join(p for _, p in problems), field=problems[0][0],
                      field_problems=tuple(problems))


def _found(session: Session, name: str) -> Account:
    account = find_account(session, name)
    if account is None:
        raise NotFound(f"unknown account {name!r}")
    return account


def _opened(name: str, account: Account, box: SecretBox) -> dict[str, Any]:
    try:
        return spec_values(account, box)
    except SecretsUnavailable as exc:
        raise Conflict(f"{name}: {exc}") from None


def _store(session: Session, values: dict[str, Any], box: SecretBox, name: str,
           shown: dict[str, Any], notes: list[str] | None = None) -> AccountSpec:
    """Validate (the spec, then against the catalog), check the folders it names on the server (when
    ``notes`` is given: what could not be checked goes there), and store; a refusal names the problem
    without the values in ``shown``."""
    try:
        spec = AccountSpec.model_validate(values)
    except ValidationError as exc:
        raise invalid(name, exc, {k: v for k, v in shown.items() if k in SECRET_FIELDS}) from None
    refuse_unfit(session, [spec])
    if notes is not None:
        check_named_folders(spec, Path.cwd(), notes)
    try:
        store(session, values, box)
    except SecretsUnavailable as exc:
        raise Conflict(f"{name}: {exc}") from None
    except MailboxTaken as exc:
        raise Conflict(str(exc)) from None
    return spec


def add_account(session: Session, actor: Actor, values: dict[str, Any], box: SecretBox,
                notes: list[str] | None = None) -> AccountSpec:
    """A new account from a spec's values (secrets among them, sealed when stored); an IMAP folder or
    ``move_to`` the server lacks is refused, one that cannot be checked noted in ``notes``."""
    actor.require_admin("adding an account")
    name = values.get("name")
    if name and find_account(session, name) is not None:
        raise Conflict(f"account {name!r} exists already: change it with 'postroom accounts edit {name}'",
                       field="name")
    return _store(session, values, box, str(name), {k: v for k, v in values.items() if k in SECRET_FIELDS},
                  [] if notes is None else notes)


def edit_account(session: Session, actor: Actor, name: str, changes: dict[str, Any], box: SecretBox,
                 unsets: tuple[str, ...] = (), secret: dict[str, Any] | None = None,
                 notes: list[str] | None = None) -> list[str]:
    """Change the account's fields (``block.key`` for one field of a block), remove ``unsets``, set the
    ``secret`` values; what changed, one line each (secrets as 'changed'), empty for no change. A fixed
    setting is tried at once, not after the fetcher's back-off. A change to where an IMAP account reads
    is refused when its folder or ``move_to`` is not on the server; when the server cannot be asked, a
    note in ``notes`` says so and the change is stored."""
    actor.require_admin("changing an account")
    if "name" in changes or "name" in unsets:
        raise Invalid("an account's name cannot change (its state is kept by name): "
                      "copy it to the new name, then delete the old one", field="name")
    secret = secret or {}
    account = _found(session, name)
    before = _opened(name, account, box)
    after = with_sets({k: v for k, v in before.items() if k not in unsets}, changes) | secret
    lines = diff_lines(before, after)
    if not lines:
        return []
    moved = any(before.get(k) != after.get(k) for k in (*FOLDER_KEYS, "password", "app_password"))
    _store(session, after, box, name, before | secret, ([] if notes is None else notes) if moved else None)
    wake(session, name)
    return lines


def copy_account(session: Session, actor: Actor, name: str, new: str, box: SecretBox,
                 address: str | None = None) -> AccountSpec:
    """A new account ``new`` with ``name``'s settings and sealed secrets, inactive until activated; a drop
    folder named after its account gets a folder of its own."""
    actor.require_admin("adding an account")
    source = _found(session, name)
    new = new.strip()
    if not new:
        raise Invalid("the copy needs a name of its own", field="name")
    if find_account(session, new) is not None:
        raise Conflict(f"account {new!r} exists already", field="name")
    values = _opened(name, source, box) | {"name": new, "active": False}
    if address:
        values["address"] = address
    if source.kind == "dropfolder" and Path(values["path"]).name == name:
        values["path"] = str(Path(values["path"]).with_name(new))
    return _store(session, values, box, new, values)


def deletable(session: Session, actor: Actor, name: str) -> Account:
    """The account, if it may be deleted now: not while a fetcher reads it (it would write health and
    cursors for a gone account)."""
    actor.require_admin("deleting an account")
    account = _found(session, name)
    reader = live_reader(session, name)
    if reader is not None:
        until = as_utc(reader.expires_at).isoformat(timespec="seconds")  # type: ignore[union-attr]
        raise Conflict(f"{name} is being read by fetcher {reader.holder} (lease until {until}): run "
                       f"'postroom accounts deactivate {name}', wait until 'postroom accounts show {name}' says "
                       "'read by: nobody', then delete it")
    return account


def deletion(session: Session, actor: Actor, name: str) -> dict[str, Any]:
    """What deleting the account now would do, for a person to confirm: the fetch state removed and the
    history that stays (rows per table). Refused as ``deletable`` refuses."""
    account = deletable(session, actor, name)
    return {"name": name, "kind": account.kind, "address": account.address, "active": account.active,
            "removed": account_counts(session, name, ACCOUNT_STATE),
            "kept": account_counts(session, name, ACCOUNT_HISTORY)}


def delete_account(session: Session, actor: Actor, name: str) -> dict[str, int]:
    """Delete the account and its fetch state; the items and mails it imported stay. Per table, the
    rows of fetch state removed."""
    account = deletable(session, actor, name)
    removed = forget_account(session, name)
    session.delete(account)
    return removed


def check_declared_folders(session: Session, specs: list[AccountSpec], base: Path, notes: list[str] | None) -> None:
    """The folders of each new IMAP account, or one whose server, user or folders change, checked on the
    server before anything is stored (``check_named_folders``)."""
    for spec in specs:
        account = find_account(session, spec.name)
        config = spec.config(base)
        if account is None or account.kind != spec.kind or any(
                account.config.get(k) != config.get(k) for k in FOLDER_KEYS):
            check_named_folders(spec, base, [] if notes is None else notes)


def _file(path: Path, known: tuple[str, ...], other: str) -> dict[str, Any]:
    """The YAML mapping ``path`` holds; a top-level key it should not have is refused (with the
    closest known one, or the command that takes it). Raises ``yaml.YAMLError``."""
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise Invalid(f"{path}: expected keys ({', '.join(known)}), got a {type(data).__name__}")
    for key in data:
        if key not in known:
            hint = (f": that is the catalog's, apply this file with '{other}'" if key in CATALOG_KEYS
                    else did_you_mean(str(key), known) or f" (known: {', '.join(known)})")
            raise Invalid(f"{path}: unknown key {key!r}{hint}")
    return data


def _specs(path: Path, data: dict[str, Any]) -> list[AccountSpec]:
    """Every account the file declares, each checked; one line naming every problem otherwise."""
    accounts = data.get("accounts") or []
    if not isinstance(accounts, list):
        raise Invalid(f"{path}: accounts: expected a list of accounts")
    specs, problems = [], []
    for n, values in enumerate(accounts, 1):
        name = values.get("name") if isinstance(values, dict) else None
        try:
            specs.append(AccountSpec.model_validate(values))
        except ValidationError as exc:
            secrets = {k: v for k, v in values.items() if k in SECRET_FIELDS} if isinstance(values, dict) else {}
            problems.append(invalid(str(name) if name else f"#{n}", exc, secrets).message)
    if problems:
        raise Invalid(f"{path}: nothing stored: " + "; ".join(problems))
    return specs


def apply_accounts_file(session: Session, actor: Actor, path: Path, box: SecretBox,
                        base: Path | None = None, notes: list[str] | None = None) -> list[str]:
    """Create or update the accounts ``path`` declares (idempotent); what changed, one line each. All
    or nothing: one account that is not valid, does not fit the catalog, names an IMAP folder or
    ``move_to`` its server lacks, or would be a second reader of a mailbox, and none is stored;
    ``notes`` gets the folders that could not be checked. Raises ``yaml.YAMLError`` for a file that is
    not YAML."""
    actor.require_admin("declaring accounts")
    specs, base = _specs(path, _file(path, ("accounts",), f"postroom config apply -f {path}")), base or Path.cwd()
    refuse_unfit(session, specs, f"{path}: ")
    try:
        check_declared_folders(session, specs, base, notes)
    except Invalid as exc:
        raise Invalid(f"{path}: nothing applied: {exc.message}", field=exc.field) from None
    try:
        return apply_specs(session, specs, base, box)
    except MailboxTaken as exc:
        raise Conflict(f"{path}: nothing applied: {exc}") from None


def apply_config_file(session: Session, actor: Actor, path: Path, box: SecretBox,
                      base: Path | None = None, notes: list[str] | None = None) -> list[str]:
    """Create or update the catalog and the accounts ``path`` declares; nothing is applied when an
    account does not fit the catalog (the same check as ``apply_accounts_file``, against the catalog
    as this file leaves it). Raises ``pydantic.ValidationError`` or ``yaml.YAMLError`` for a file that
    is not valid."""
    actor.require_admin("declaring the catalog")
    data = _file(path, (*CATALOG_KEYS, "accounts"), "")
    catalog = CatalogSpec.model_validate(data)
    specs = _specs(path, data)
    try:
        changes = apply_catalog(session, catalog)
    except ValueError as exc:
        raise Invalid(f"{path}: {exc}") from None
    refuse_unfit(session, specs, f"{path}: ")
    try:
        check_declared_folders(session, specs, base or Path.cwd(), notes)
    except Invalid as exc:
        raise Invalid(f"{path}: nothing applied: {exc.message}", field=exc.field) from None
    try:
        applied = apply_specs(session, specs, base or Path.cwd(), box)
    except MailboxTaken as exc:
        raise Conflict(f"{path}: nothing applied: {exc}") from None
    return changes + [f"{line[:2]}account {line[2:]}" for line in applied]
