"""The composition root: builds the FastAPI app; the only module that imports routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core import faults
from app.core.capacity import CapacityLimit
from app.core.config import Settings, get_settings
from app.core.db import make_engine, open_async_pool
from app.core.errors import N_, DomainError
from app.core.logs import request_id
from app.privacy import retention
from routes import api_router, pages_router
from routes.http import openapi as api_docs
from routes.http.context import RequestContext, TrustedProxies
from routes.http.deps import LoginRequired
from routes.http.errors import UnexpectedErrors
from routes.http.headers import SecurityHeaders
from routes.http.input import BodyLimit, refuse_nul
from routes.http.static import Assets
from routes.http.web import gettext, render

log = logging.getLogger("kitrun.http")
STATIC_DIR = Path(__file__).parent / "static"
NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
# Browser packages installed by `npm ci`, served from our own origin (no CDN at run time).
VENDOR = {
    "/static/vendor/barcode-detector": NODE_MODULES / "barcode-detector" / "dist",
    "/static/vendor/zxing-wasm": NODE_MODULES / "zxing-wasm" / "dist",
    "/static/vendor/swagger-ui": NODE_MODULES / "swagger-ui-dist",
    "/static/vendor/leaflet": NODE_MODULES / "leaflet" / "dist",
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in ("/healthz", "/readyz")


def _error_body(code: str, message: str, details: object = None) -> dict:
    info = {"code": code, "message": message, "details": details, "request_id": request_id.get()}
    return {"error": info}


DB_UNAVAILABLE = N_("The database cannot be reached just now. Please try again in a moment.")


def _database_unavailable(request: Request, exc: Exception) -> Response:
    """A lost or unobtainable database connection (app/core/faults.py): 503, `Retry-After`."""
    log.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__
    )
    headers = {"Retry-After": str(faults.RETRY_AFTER)}
    if _wants_json(request):
        body = _error_body("database_unavailable", "Database unavailable; try again shortly.")
        return JSONResponse(body, status_code=503, headers=headers)
    message = gettext(request)(DB_UNAVAILABLE)
    page = render(request, "error.html", {"status": 503, "message": message}, status_code=503)
    page.headers.update(headers)
    return page


def warm_up() -> None:
    """Load now what a worker would otherwise load on its first requests: the catalogs, every
    template compiled, the CJK font registered and measured by a first chart (0.5 s and 0.45 s
    of the first dashboard view after a start). `kitrun serve` calls it once, before forking."""
    from datetime import date

    from app.core.i18n import LOCALES, translations
    from app.dashboard import charts
    from routes.http.web import templates

    for locale in LOCALES:
        translations(locale)
    for name in templates.env.list_templates():
        templates.env.get_template(name)  # compiled and kept by the environment
    day = {"day": date.today(), "claims": 1, "handed_over": 1}
    charts.to_svg(charts.daily_chart([day], str), "warm", "warm")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for the given settings (default: the environment)."""
    settings = settings or get_settings()
    _ = settings.secret  # fail fast in production without a key
    _ = settings.trusted_proxy_list  # and on a proxy address that is not one
    _ = settings.metrics_allow_list  # or a /metrics address that is not one

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.async_pool = await open_async_pool(settings)
        purge = None
        if settings.purge_interval_seconds > 0:  # the scheduled retention job
            purge = asyncio.create_task(retention.periodic(app.state.engine, settings))
        try:
            yield
        finally:
            if purge is not None:
                purge.cancel()
            if app.state.async_pool is not None:
                await app.state.async_pool.close()
                app.state.async_pool = None

    app = FastAPI(
        lifespan=lifespan,
        title="kitrun",
        version="0.1.0",
        description="Health-kit distribution: stock, claims, QR pickup, delivery runs, labels.",
        docs_url=None,  # served from our own origin: routes/pages/api_docs.py
        redoc_url=None,
        openapi_url="/openapi.json",
        dependencies=[Depends(refuse_nul)],  # no NUL in any path, query, JSON or form
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
                headers=exc.headers,
            )
        page = render(
            request,
            "error.html",
            {"status": exc.status_code, "message": exc.localized(gettext(request))},
            status_code=exc.status_code,
        )
        page.headers.update(exc.headers)
        return page

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
        # a page names the fields only: the validator's own words are English
        fields = ", ".join(d["field"] or "body" for d in details[:5])
        message = gettext(request)(N_("Missing or invalid values: {fields}.")).format(fields=fields)
        return render(request, "error.html", {"status": 422, "message": message}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        message = str(exc.detail)
        not_found = exc.status_code == 404 and message == "Not Found"
        if not_found:
            message = f"No such page or endpoint: {request.url.path}"
        if _wants_json(request):
            return JSONResponse(
                _error_body(code, message), status_code=exc.status_code, headers=exc.headers
            )
        if not_found:
            message = gettext(request)(N_("No such page: {path}")).format(path=request.url.path)
        else:
            message = gettext(request)(message)
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "message": message},
            status_code=exc.status_code,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        if faults.connection_lost(exc):  # not our error: 503, the client tries again
            return _database_unavailable(request, exc)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            _error_body("internal_error", "Something went wrong on our side; it was logged."),
            status_code=500,
        )

    # bodies are counted while they stream in: JSON and forms 1 MiB, uploads their own limit
    app.add_middleware(BodyLimit)
    # an unexpected error is answered inside the app, so the client's connection stays usable
    app.add_middleware(UnexpectedErrors, handler=unexpected)
    app.add_middleware(RequestContext, settings=settings)
    # outside UnexpectedErrors: its 500s get them too; the map's tile server may serve images
    app.add_middleware(SecurityHeaders, img_origin=settings.tile_origin)
    app.add_middleware(CapacityLimit)
    if settings.trusted_proxy_list:
        # Outermost: all that follows (rate limits, logs) sees the client, not the proxy. The
        # right-most address of X-Forwarded-For that is not a trusted proxy, and only when the
        # peer is one (KITRUN_TRUSTED_PROXIES); `kitrun serve` turns uvicorn's own reading off.
        app.add_middleware(TrustedProxies, trusted_hosts=settings.trusted_proxy_list)
    # app/static and the npm packages: versioned URLs, gzip, no cookies (routes/http/static.py)
    app.state.assets = Assets(STATIC_DIR, _vendor(app))
    app.mount("/static", app.state.assets, name="static")
    app.include_router(api_router)
    app.include_router(pages_router)
    api_docs.install(app)  # the error answers of every operation, in the one error shape
    return app


def _vendor(app: FastAPI) -> dict[str, Path]:
    """The npm packages the pages use that are installed, by their prefix under /static."""
    missing = [str(d) for d in VENDOR.values() if not d.is_dir()]
    app.state.vendor_ok = not missing
    if missing:
        log.warning(
            "browser packages missing (%s): run `npm ci`; the scanner page falls back to "
            "typed codes and photo upload where the browser has no BarcodeDetector",
            ", ".join(missing),
        )
    # each package that is there is served, whatever else is missing
    return {
        prefix.removeprefix("/static/"): directory
        for prefix, directory in VENDOR.items()
        if directory.is_dir()
    }
