"""An account's templates of the automatic mail (admin only): one kind at a time (the auto-reply
first), its subject, text and HTML in text areas, a preview rendered as they are typed (htmx, after a
pause) against the sample mail or one of the account's stored mails, and Save. The preview and Save
run the same check as ``postroom accounts apply``: what would not render is shown with its template,
line and reason, and is not stored."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from services.app import templateedits
from services.app.templatepreview import Against, preview
from services.console.pages import PageRoute, Signed, Visit, see_other
from shared.secrets import SecretBox

router = APIRouter(route_class=PageRoute, include_in_schema=False)
DEFAULT_KIND = "auto-reply"


def _against(mail_id: str) -> Against:
    return Against(mail_id=int(mail_id)) if mail_id.strip().isdigit() else Against()


def _preview(visit: Visit, name: str, kind: str, parts: dict[str, str], mail_id: str) -> dict[str, Any]:
    # Empty parts are given as empty: left out, as saving leaves them out, not the stored ones.
    with visit.unit() as session:
        return preview(session, visit.actor, kind, parts, _against(mail_id), visit.ctx.tokens,
                       visit.ctx.settings.console_url, account=name)


def _page(visit: Visit, name: str, kind: str, status: int = 200, *, parts: dict[str, str] | None = None,
          mail_id: str = "", problems: list[dict[str, Any]] | None = None, saved: bool = False) -> HTMLResponse:
    with visit.unit() as session:
        found = templateedits.account_templates(session, visit.actor, name, kind)
        mails = templateedits.recent_mails(session, visit.actor, name)
    parts = parts if parts is not None else found["parts"]
    shown = _preview(visit, name, kind, parts, mail_id)
    return visit.render("account_template.html", status, t=found, parts=parts, mails=mails, mail_id=mail_id,
                        preview=shown, problems=problems or [], saved=saved)


@router.get("/accounts/{name}/template")
def template_page(visit: Signed, name: str, kind: str = DEFAULT_KIND, saved: str = "") -> HTMLResponse:
    return _page(visit, name, kind, saved=bool(saved))


Part = Annotated[str, Form()]


@router.post("/accounts/{name}/template/preview")
def template_preview(visit: Signed, name: str, kind: Part = DEFAULT_KIND, subject: Part = "", text: Part = "",
                     html: Part = "", mail_id: Part = "") -> HTMLResponse:
    shown = _preview(visit, name, kind, {"subject": subject, "text": text, "html": html}, mail_id)
    return visit.render("_template_preview.html", preview=shown)


@router.post("/accounts/{name}/template")
def save_template(visit: Signed, name: str, kind: Part = DEFAULT_KIND, subject: Part = "", text: Part = "",
                  html: Part = "", mail_id: Part = "") -> Response:
    parts = {"subject": subject, "text": text, "html": html}
    try:
        with visit.unit() as session:
            templateedits.save_templates(session, visit.actor, name, kind, parts,
                                         SecretBox(visit.ctx.settings.resolved_secret_keys))
    except templateedits.TemplatesRefused as exc:
        return _page(visit, name, kind, exc.status, parts=parts, mail_id=mail_id, problems=exc.problems)
    return see_other(f"/accounts/{quote(name, safe='')}/template?{urlencode({'kind': kind, 'saved': '1'})}")
