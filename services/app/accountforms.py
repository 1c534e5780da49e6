"""An account as a form holds it (the console's Add and Edit): the fields its provider offers with the
recommended defaults or the stored values (never a secret), the catalog's names to choose from, and
the typed-in text read back as the values ``add_account`` and ``edit_account`` take. The fields are
``accountproviders``' (the CLI asks the same ones); the field mapping and the default values are two
tables over the names of ``shared/items/mapping.py`` and the catalog's custom fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.app.accountproviders import SETTINGS, Field, Provider, form_fields, form_secrets, provider_of, start
from services.app.actors import Actor
from services.app.errors import Conflict, Invalid, NotFound
from shared.accounts.edit import find_account, spec_values
from shared.accounts.specs import SECRET_FIELDS
from shared.db.models import CustomField, ItemType, Project, Status, User
from shared.items.mapping import BUILTIN_DEFAULTS, DEFAULT_MAPPING
from shared.secrets import SecretBox, SecretsUnavailable

Form = Mapping[str, list[str]]  # each field's values as submitted


def fields(provider: Provider) -> tuple[Field, ...]:
    """Every field of the form but the secrets: the connection's, then the item settings'."""
    return (*form_fields(provider), *(f for _, section in SETTINGS for f in section))


def choices(session: Session) -> dict[str, list[str]]:
    """The declared names a catalog field is chosen from."""
    return {"item_types": list(session.scalars(select(ItemType.name).order_by(ItemType.name))),
            "projects": list(session.scalars(select(Project.name).order_by(Project.name))),
            "users": list(session.scalars(select(User.email).where(User.active.is_(True)).order_by(User.email))),
            "statuses": list(session.scalars(select(Status.name).order_by(Status.position, Status.name)))}


@dataclass(frozen=True)
class ItemTable:
    """What the "Field mapping" and "Default values" tables offer: the item fields (the recommended
    ones, then the catalog's custom fields) and each custom field's kind (text, number, bool, choice)."""

    kinds: Mapping[str, str]

    @property
    def targets(self) -> tuple[str, ...]:
        """The item fields a mail field can be mapped to."""
        return (*DEFAULT_MAPPING, *self.kinds)

    @property
    def defaulted(self) -> tuple[str, ...]:
        """The fields a new item's value can be set for."""
        return (*BUILTIN_DEFAULTS, *self.kinds)


def item_table(session: Session) -> ItemTable:
    return ItemTable({f.name: f.kind for f in session.scalars(select(CustomField).order_by(CustomField.name))})


MAPPED, DEFAULT_FIELD, DEFAULT_VALUE = "field_mapping.", "default_values.field", "default_values.value"


def _default_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _default_typed(kind: str | None, text: str) -> Any:
    """A default value's text as its field takes it (a number field's number, a bool field's true or
    false); what does not parse is left as typed for ``account_problems`` to name."""
    if kind == "number":
        for parse in (int, float):
            try:
                return parse(text)
            except ValueError:
                pass
    if kind == "bool" and text.lower() in ("true", "yes", "on", "false", "no", "off"):
        return text.lower() in ("true", "yes", "on")
    return text


def default_rows(form: Form) -> list[tuple[str, str]]:
    """The default-value rows as typed, (field, value), empty rows left out."""
    pairs = zip(form.get(DEFAULT_FIELD, []), form.get(DEFAULT_VALUE, []), strict=False)
    return [(f.strip(), v.strip()) for f, v in pairs if f.strip() or v.strip()]


def read_items(table: ItemTable, form: Form) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """(``field_mapping`` and ``default_values`` of a submitted form, problems): a mapping row set to
    the recommended mail field (or "not mapped") stores nothing; a default row with no value is left
    out (emptying a row removes it), one with a value but no field, or a field given twice, is refused."""
    mapping = {key.removeprefix(MAPPED): given[-1] for key, given in form.items()
               if key.startswith(MAPPED) and given and given[-1]
               and given[-1] != DEFAULT_MAPPING.get(key.removeprefix(MAPPED))}
    defaults: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name, text in default_rows(form):
        if not name:
            problems.append(("default_values", f"default_values: {text!r} has no field: choose the field it is for"))
        elif name in defaults:
            problems.append(("default_values", f"default_values: {name} is given twice: keep one row"))
        elif text:
            defaults[name] = _default_typed(table.kinds.get(name), text)
    return {"field_mapping": mapping, "default_values": defaults}, problems


def _provider(kind: str) -> Provider:
    try:
        return provider_of(kind)
    except KeyError:
        raise Invalid(f"no form for a {kind!r} account", field="kind") from None


def new_form(session: Session, actor: Actor, kind: str) -> dict[str, Any]:
    """An Add form: the provider, its recommended defaults (the first declared project and item type
    when the default is not declared), the choices."""
    actor.require_admin("adding an account")
    provider, offered = _provider(kind), choices(session)
    values = start(provider)
    for field in fields(provider):
        if field.default is not None:
            try:
                values[field.key] = field.default(values)
            except KeyError:  # drawn from a field not typed yet (a drop folder's from its name): filled on save
                pass
        known = offered.get(field.catalog)
        if known and not field.optional and values.get(field.key) not in known:
            values[field.key] = known[0]
    return {"provider": provider, "values": values, "choices": offered, "secrets": form_secrets(provider),
            "items": item_table(session)}


def edit_form(session: Session, actor: Actor, name: str, box: SecretBox) -> dict[str, Any]:
    """An Edit form: the stored account's values (its ``oauth:`` block as ``oauth.KEY``), without secrets."""
    actor.require_admin("changing an account")
    account = find_account(session, name)
    if account is None:
        raise NotFound(f"unknown account {name!r}")
    provider = _provider(account.kind)
    try:
        stored = spec_values(account, box)
    except SecretsUnavailable as exc:
        raise Conflict(f"{name}: {exc}") from None
    values = {k: v for k, v in stored.items() if k not in SECRET_FIELDS and k != "oauth"}
    values |= {f"oauth.{k}": v for k, v in (stored.get("oauth") or {}).items()}
    values["default_rows"] = [(k, _default_text(v)) for k, v in (stored.get("default_values") or {}).items()]
    return {"provider": provider, "values": values, "choices": choices(session), "secrets": form_secrets(provider),
            "items": item_table(session)}


def _typed(field: Field, given: list[str]) -> Any:
    """A field's text as its setting takes it; what does not parse is left as typed for the spec's
    check to name."""
    if field.boolean:
        return bool(given) and given[-1] not in ("", "false", "off")
    if field.many:
        return [part.strip() for text in given for part in text.split(",") if part.strip()]
    text = given[-1].strip() if given else ""
    if field.number and text.lstrip("-").isdigit():
        return int(text)
    return text


def read_values(provider: Provider, form: Form) -> dict[str, Any]:
    """What was typed, to show again on a refused form (never a secret)."""
    mapping = {key.removeprefix(MAPPED): given[-1] for key, given in form.items() if key.startswith(MAPPED) and given}
    return (start(provider) | {f.key: _typed(f, form.get(f.key, [])) for f in fields(provider)}
            | {"field_mapping": mapping, "default_rows": default_rows(form)})


def read_form(provider: Provider, form: Form, table: ItemTable | None = None
              ) -> tuple[dict[str, Any], dict[str, str], tuple[str, ...]]:
    """(values, secrets, left empty) of a submitted form: the values with ``oauth.KEY`` keys (as
    ``with_sets`` and ``spec_of`` take them), the secrets typed in (an empty one is not given), the
    optional fields left empty; with ``table``, the ``field_mapping`` and ``default_values`` its rows
    give (``read_items``). A field with a recommended default left empty takes it; a required one left
    empty is refused, naming it."""
    values, empty, problems = start(provider), [], []
    for field in fields(provider):
        value = _typed(field, form.get(field.key, []))
        if value in ("", []) and field.default is not None and not field.boolean and not field.number:
            try:
                value = field.default(values)  # the recommended one, from what was typed before it
            except KeyError:
                pass  # drawn from a field left empty, which is refused
        if value in ("", []) and not field.boolean:
            if field.optional or field.number:
                empty.append(field.key)
            else:
                problems.append((field.key, f"{field.key}: required"))
            continue
        values[field.key] = value
    if table is not None:
        items, refused = read_items(table, form)
        values |= items
        problems += refused
    if problems:
        raise Invalid("; ".join(p for _, p in problems), field=problems[0][0], field_problems=tuple(problems))
    secrets = {key: form[key][-1] for key in form_secrets(provider) if form.get(key) and form[key][-1]}
    return values, secrets, tuple(empty)
