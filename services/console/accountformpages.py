"""Adding and changing an account (admin only, as in the application layer): the provider chosen
first, then only its fields with the recommended defaults (Edit: the stored values; secrets are
write-only, an empty one keeps the stored one), the field mapping and default values as two tables of
rows, each refusal beside its field with what was typed kept. "Refresh Folders" and "Test connection"
(htmx) try the form's values as they are, saved or not."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from services.app import accountchecks, accountforms
from services.app.accountedits import add_account, edit_account
from services.app.accountproviders import (FOLDER_FIELDS, SECRET_PROMPTS, SETTINGS, form_fields, providers,
                                           spec_of)
from services.app.errors import AppError
from services.console import accountpages
from services.console.pages import PageRoute, Signed, Visit
from shared.items.mapping import DEFAULT_MAPPING, MAIL_FIELDS
from shared.secrets import SecretBox

router = APIRouter(route_class=PageRoute, include_in_schema=False)


async def _submitted(request: Request) -> dict[str, list[str]]:
    data = await request.form()
    return {key: [str(v) for v in data.getlist(key)] for key in data}


Submitted = Annotated[dict[str, list[str]], Depends(_submitted)]


def _box(visit: Visit) -> SecretBox:
    return SecretBox(visit.ctx.settings.resolved_secret_keys)


def _problems(exc: AppError) -> dict[str | None, list[str]]:
    placed: dict[str | None, list[str]] = {}
    for field, message in exc.field_problems:
        placed.setdefault(field, []).append(message)
    return placed


def _page(visit: Visit, form: dict[str, Any], status: int = 200, *, editing: str | None = None,
          values: dict[str, Any] | None = None, refused: AppError | None = None) -> HTMLResponse:
    errors = _problems(refused) if refused else {}
    known = {f.key for f in accountforms.fields(form["provider"])} | set(form["secrets"]) | {"field_mapping",
                                                                                            "default_values"}
    return visit.render("account_form.html", status, f=form, values=values if values is not None else form["values"],
                        editing=editing, errors=errors, unplaced=[m for k, ms in errors.items() if k not in known
                                                                 for m in ms],
                        folder_fields=FOLDER_FIELDS, folder_kinds=accountchecks.FOLDER_KINDS,
                        connection=form_fields(form["provider"]), settings=SETTINGS, secret_prompts=SECRET_PROMPTS,
                        mail_fields=MAIL_FIELDS, recommended=DEFAULT_MAPPING)


@router.get("/accounts/new")
def new_account(visit: Signed, kind: str = "") -> HTMLResponse:
    if not kind:
        visit.actor.require_admin("adding an account")
        return visit.render("account_providers.html", providers=providers())
    with visit.unit() as session:
        form = accountforms.new_form(session, visit.actor, kind)
    return _page(visit, form)


def _kind(submitted: dict[str, list[str]]) -> str:
    return (submitted.get("kind") or [""])[-1]


@router.post("/accounts/new")
def save_new_account(visit: Signed, submitted: Submitted) -> Response:
    with visit.unit() as session:
        form = accountforms.new_form(session, visit.actor, _kind(submitted))
    notes: list[str] = []
    try:
        values, secrets, _ = accountforms.read_form(form["provider"], submitted, form["items"])
        with visit.unit() as session:
            add_account(session, visit.actor, spec_of(values) | secrets, _box(visit), notes)
    except AppError as exc:
        return _page(visit, form, exc.status, values=accountforms.read_values(form["provider"], submitted),
                     refused=exc)
    return _saved(visit, str(values["name"]), "added", notes)


def _saved(visit: Visit, name: str, what: str, notes: list[str]) -> Response:
    if not notes:
        return accountpages.done(name, what)
    # What could not be checked is said, on the list the person goes back to.
    response = accountpages.list_page(visit, notes=notes)
    response.headers["HX-Push-Url"] = "/accounts"
    return response


@router.get("/accounts/{name}/edit")
def edit_page(visit: Signed, name: str) -> HTMLResponse:
    with visit.unit() as session:
        form = accountforms.edit_form(session, visit.actor, name, _box(visit))
    return _page(visit, form, editing=name)


@router.post("/accounts/{name}/edit")
def save_edit(visit: Signed, name: str, submitted: Submitted) -> Response:
    with visit.unit() as session:
        form = accountforms.edit_form(session, visit.actor, name, _box(visit))
    notes: list[str] = []
    try:
        values, secrets, empty = accountforms.read_form(form["provider"], submitted, form["items"])
        changes = {k: v for k, v in values.items() if k != "name"}
        with visit.unit() as session:
            edit_account(session, visit.actor, name, changes, _box(visit), empty, secrets, notes)
    except AppError as exc:
        return _page(visit, form, exc.status, editing=name,
                     values=accountforms.read_values(form["provider"], submitted) | {"name": name}, refused=exc)
    return _saved(visit, name, "saved", notes)


def _tried(visit: Visit, submitted: dict[str, list[str]], stored: str | None) -> dict[str, Any]:
    """The form's values (secrets with them) as the checks take them."""
    with visit.unit() as session:
        form = (accountforms.edit_form(session, visit.actor, stored, _box(visit)) if stored
                else accountforms.new_form(session, visit.actor, _kind(submitted)))
    values, secrets, _ = accountforms.read_form(form["provider"], submitted)
    return spec_of(values) | secrets | ({"name": stored} if stored else {})


def _test(visit: Visit, submitted: dict[str, list[str]], stored: str | None) -> HTMLResponse:
    try:
        tried = _tried(visit, submitted, stored)
        result = accountchecks.probe_values(visit.ctx.sessions, visit.actor, tried, _box(visit), stored)
    except AppError as exc:
        return visit.render("_account_test.html", exc.status, result=None, problem=exc.message)
    return visit.render("_account_test.html", result=result, problem="")


def _folders(visit: Visit, submitted: dict[str, list[str]], stored: str | None) -> HTMLResponse:
    field = next((k for k in FOLDER_FIELDS if k in submitted), "folder")
    current = submitted.get(field, [])
    chosen = [p.strip() for text in current for p in text.split(",") if p.strip()]
    try:
        tried = _tried(visit, submitted, stored)
        found = accountchecks.folders_of_values(visit.ctx.sessions, visit.actor, tried, _box(visit), stored)
    except AppError as exc:
        return visit.render("_account_folders.html", exc.status, field=field, found=None, chosen=chosen,
                            problem=exc.message)
    return visit.render("_account_folders.html", field=field, found=found, chosen=chosen, problem="")


@router.post("/accounts/new/test")
def test_new(visit: Signed, submitted: Submitted) -> HTMLResponse:
    return _test(visit, submitted, None)


@router.post("/accounts/new/folders")
def folders_new(visit: Signed, submitted: Submitted) -> HTMLResponse:
    return _folders(visit, submitted, None)


@router.post("/accounts/{name}/edit/test")
def test_edit(visit: Signed, name: str, submitted: Submitted) -> HTMLResponse:
    return _test(visit, submitted, name)


@router.post("/accounts/{name}/edit/folders")
def folders_edit(visit: Signed, name: str, submitted: Submitted) -> HTMLResponse:
    return _folders(visit, submitted, name)
