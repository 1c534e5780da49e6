"""The FastAPI application: routes under ``/api/v1``, JSON errors, security headers, request metrics."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.api import accounts, held, items, operations, oversight, people, templates
from services.api.deps import Context
from services.app.errors import AppError
from services.console import web as console

PREFIX = "/api/v1"
REQUESTS = Counter("postroom_api_requests_total", "API requests answered", ["method", "route", "status"])
LATENCY = Histogram("postroom_api_request_seconds", "API request duration", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
# JSON only: nothing here is meant to render, run scripts or be framed.
_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'", "X-Frame-Options": "DENY"}
_CODES = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
          409: "conflict", 422: "invalid", 429: "too-many-requests"}


def _error(status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": _CODES.get(status, "error"), "message": message}
    if field:
        body["field"] = field
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(ctx: Context) -> FastAPI:
    app = FastAPI(title="Postroom", version="1", openapi_url=f"{PREFIX}/openapi.json", docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    for router in (people.router, items.router, accounts.router, operations.router, oversight.router,
                   templates.router, held.router):
        app.include_router(router, prefix=PREFIX)
    app.include_router(console.router())  # the web console's pages, which set their own headers
    app.mount(console.STATIC_PATH, console.static_files(), name="static")

    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # The input is never echoed: a password sent in the wrong field must not come back.
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(422, f"{where or 'request'}: {first.get('msg', 'invalid')}", where or None)

    @app.middleware("http")
    async def headers_and_metrics(request: Request, call_next: Any) -> Any:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        REQUESTS.labels(request.method, path, str(response.status_code)).inc()
        LATENCY.labels(request.method, path).observe(time.perf_counter() - started)
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app
