"""The FastAPI application: pages, the JSON API under /api, static assets, and how errors read."""

from __future__ import annotations

import gc
import importlib.util
import os
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from rectify.flows.clock import parse_instant
from rectify.models.db import database_url
from rectify.models.errors import Conflict, DomainError, InvalidTransition, NotFound, PermissionDenied
from rectify.web import admin, api, capture, deliveries, documents, downloads, imports, login, pages, plans, rechecks
from rectify.web.headers import SecurityHeaders
from rectify.web.reference import Reference
from rectify.web.security import SESSION_HOURS, secret_key
from rectify.web.wording import message_of

HERE = Path(__file__).parent
DOCS_ASSETS = "/api/docs-assets"


def swagger_assets() -> Path:
    """Swagger UI's files as fastapi-offline ships them (found without importing it)."""
    spec = importlib.util.find_spec("fastapi_offline")
    assert spec is not None and spec.origin is not None, "fastapi-offline is a dependency"
    return Path(spec.origin).parent / "static"


def status_of(exc: DomainError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, (Conflict, InvalidTransition)):
        return 409
    return 400


def create_app(*, url: str | None = None, as_of: str | None = None) -> FastAPI:
    """`url`: rectify's database (default: RECTIFY_DATABASE_URL or the embedded one).
    `as_of`: a fixed clock (a training copy or the 2016 demo); default: the real time."""
    app = FastAPI(
        title="rectify 整改跟踪 API",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        description="问题、操作与统计数据。用 `rectify user token 用户名` 生成令牌,"
        "以 `Authorization: Bearer 令牌` 调用。",
    )
    app.state.url = url or database_url()
    app.state.reference = Reference()
    fixed: datetime | None = parse_instant(as_of) if as_of else None
    app.state.clock = (lambda: fixed) if fixed else (lambda: parse_instant(None))
    app.add_middleware(SessionMiddleware, secret_key=secret_key(), session_cookie="rectify_session",
                       max_age=SESSION_HOURS * 3600, same_site="lax",
                       https_only=os.environ.get("RECTIFY_COOKIE_SECURE") == "1")
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_assets()), name="api-docs-assets")

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs():
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="rectify 整改跟踪 API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png")
    app.include_router(login.router)
    app.include_router(pages.router)
    app.include_router(imports.router)
    app.include_router(downloads.router)
    app.include_router(documents.router)
    app.include_router(deliveries.router)
    app.include_router(admin.router)
    app.include_router(plans.router)
    app.include_router(rechecks.router)
    app.include_router(capture.router)
    app.include_router(api.router, prefix="/api")

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def error_page(request: Request, status: int, message: str):
        if is_api(request):
            return JSONResponse({"error": message}, status_code=status)
        with pages.work(request) as ctx:
            from rectify.web.security import session_user

            user = session_user(request, ctx.session)
            return pages.render(request, "error.html", ctx, user, status=status, message=message)

    @app.exception_handler(pages.LoginRequired)
    def _login(request: Request, exc: pages.LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(DomainError)
    def _domain(request: Request, exc: DomainError):
        return error_page(request, status_of(exc), message_of(exc))

    # Starlette's own (an unknown route, a wrong method) as well as the app's: a page answers
    # with the HTML error page, the API with its JSON.
    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "请求无效"
        message = {"Not Found": "页面不存在", "Method Not Allowed": "不支持此请求方式"}.get(message, message)
        response = error_page(request, exc.status_code, message)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return error_page(request, 422, f"请求参数无效:{problems}")

    # Everything loaded so far lives as long as the worker: the garbage collector need not
    # walk it on each collection (a full pass over it took tens of ms in the middle of requests).
    gc.freeze()
    return app
