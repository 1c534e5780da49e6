"""Templates (admin only): a live preview of one being written, with the problem and its line
when it would not render."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.api.deps import Admin, Ctx, UnitOfWork
from services.api.schemas import TemplatePreview
from services.app.templatepreview import Against, preview

router = APIRouter(prefix="/templates")


@router.post("/preview", summary="Render a template against the sample mail or a stored one, or say why it fails")
def preview_template(body: TemplatePreview, who: Admin, session: UnitOfWork, ctx: Ctx) -> dict[str, Any]:
    parts = {p: v for p, v in (("subject", body.subject), ("text", body.text), ("html", body.html)) if v}
    return preview(session, who, body.kind, parts, Against(body.mail_id, body.item_number, body.item_type), ctx.tokens,
                   ctx.settings.console_url, body.account)
