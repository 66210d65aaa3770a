"""The composition root: builds the FastAPI app; the only module that imports routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.capacity import CapacityLimit
from app.core.config import Settings, get_settings
from app.core.db import make_engine, open_async_pool
from app.core.errors import DomainError
from routes import api_router, pages_router
from routes.http.context import RequestContext
from routes.http.deps import LoginRequired
from routes.http.web import gettext, render

log = logging.getLogger("kitrun.http")
STATIC_DIR = Path(__file__).parent / "static"
NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
# Browser packages installed by `npm ci`, served from our own origin (no CDN at run time).
VENDOR = {
    "/static/vendor/barcode-detector": NODE_MODULES / "barcode-detector" / "dist",
    "/static/vendor/zxing-wasm": NODE_MODULES / "zxing-wasm" / "dist",
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def _error_body(code: str, message: str, details: object = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for the given settings (default: the environment)."""
    settings = settings or get_settings()
    _ = settings.secret  # fail fast in production without a key

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.async_pool = await open_async_pool(settings)
        try:
            yield
        finally:
            if app.state.async_pool is not None:
                await app.state.async_pool.close()
                app.state.async_pool = None

    app = FastAPI(
        lifespan=lifespan,
        title="kitrun",
        version="0.1.0",
        description="Health-kit distribution: stock, claims, QR pickup, delivery runs, labels.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings)
    app.state.async_pool = None  # opened by the lifespan (PostgreSQL): app.core.db.open_async_pool

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if _wants_json(request):
            return JSONResponse(
                _error_body(exc.code, exc.localized(gettext(request)), exc.details),
                status_code=exc.status_code,
            )
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "message": exc.localized(gettext(request))},
            status_code=exc.status_code,
        )

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        from urllib.parse import quote

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                "message": e.get("msg", ""),
            }
            for e in exc.errors()
        ]
        message = "Invalid request: " + "; ".join(
            f"{d['field'] or 'body'}: {d['message']}" for d in details[:5]
        )
        if _wants_json(request):
            return JSONResponse(_error_body("validation_error", message, details), status_code=422)
        return render(request, "error.html", {"status": 422, "message": message}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"No such page or endpoint: {request.url.path}"
        if _wants_json(request):
            return JSONResponse(
                _error_body(code, message), status_code=exc.status_code, headers=exc.headers
            )
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "message": gettext(request)(message)},
            status_code=exc.status_code,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            _error_body("internal_error", "Something went wrong on our side; it was logged."),
            status_code=500,
        )

    app.add_middleware(RequestContext, settings=settings)
    app.add_middleware(CapacityLimit)
    _mount_vendor(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(api_router)
    app.include_router(pages_router)
    return app


def _mount_vendor(app: FastAPI) -> None:
    """Mount the npm packages the pages use (before /static, which would shadow them)."""
    missing = [str(d) for d in VENDOR.values() if not d.is_dir()]
    app.state.vendor_ok = not missing
    if missing:
        log.warning(
            "browser packages missing (%s): run `npm ci`; the scanner page falls back to "
            "typed codes and photo upload where the browser has no BarcodeDetector",
            ", ".join(missing),
        )
        return
    for prefix, directory in VENDOR.items():
        app.mount(prefix, StaticFiles(directory=str(directory)), name=prefix.rsplit("/", 1)[-1])
