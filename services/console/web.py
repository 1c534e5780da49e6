"""The console as the API application mounts it: one router of pages, and the static files (our CSS
and our own copy of htmx, so no page loads anything from elsewhere)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from services.console import (accountformpages, accountpages, heldpages, itempages, oauthpages, operationpages, signin,
                              templatepages)

STATIC_PATH = "/static"


def router() -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    # The account forms before the account pages: /accounts/new is not an account's page.
    for part in (signin.router, itempages.router, accountformpages.router, accountpages.router, oauthpages.router,
                 templatepages.router, operationpages.router, heldpages.router):
        pages.include_router(part)
    return pages


def static_files() -> StaticFiles:
    return StaticFiles(directory=Path(__file__).parent / "static")
