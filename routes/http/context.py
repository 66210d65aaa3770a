"""Per-request context as plain ASGI middleware: language, CSRF cookie, SQLite write intent, log.

(Starlette's BaseHTTPMiddleware costs a task and a stream per request; this does not.)
"""

from __future__ import annotations

import logging
import time
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.requests import Request

from app.core import security
from app.core.config import Settings
from app.core.db import write_intent
from app.core.i18n import LOCALES, normalize
from routes.http.web import CSRF_COOKIE, LANG_COOKIE

log = logging.getLogger("kitrun.http")


def wants_json(path: str) -> bool:
    return path.startswith("/api/") or path == "/healthz"


def _cookie(name: str, value: str, *, max_age: int | None, secure: bool) -> str:
    c = SimpleCookie()
    c[name] = value
    c[name]["path"] = "/"
    c[name]["samesite"] = "lax"
    if name == CSRF_COOKIE:
        c[name]["httponly"] = True
    if max_age:
        c[name]["max-age"] = max_age
    if secure:
        c[name]["secure"] = True
    return c.output(header="").strip()


class RequestContext:
    def __init__(self, app, settings: Settings) -> None:  # noqa: ANN001
        self.app = app
        self.settings = settings
        self.secure = settings.base_url.startswith("https")

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request = Request(scope)
        write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))
        path = scope["path"]
        lang = request.query_params.get("lang")
        if lang in LOCALES:
            locale = lang
        elif wants_json(path):
            # API clients choose with Accept-Language; scripts get English by default.
            accept = request.headers.get("accept-language", "").split(",")[0].strip()
            locale = normalize(accept, "en")
        else:
            locale = normalize(request.cookies.get(LANG_COOKIE), self.settings.default_locale)
        csrf = request.cookies.get(CSRF_COOKIE)
        state = scope.setdefault("state", {})
        state["locale"] = locale
        state["csrf_token"] = csrf or security.new_csrf_token()
        state["user"] = None
        status = 500

        async def send_wrapper(message) -> None:  # noqa: ANN001
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                if csrf is None and not wants_json(path):
                    headers.append(
                        "set-cookie",
                        _cookie(CSRF_COOKIE, state["csrf_token"], max_age=None, secure=self.secure),
                    )
                if lang in LOCALES:
                    headers.append(
                        "set-cookie",
                        _cookie(LANG_COOKIE, lang, max_age=365 * 86400, secure=self.secure),
                    )
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            # The route's template, never the concrete path: paths may carry claim tokens.
            route = scope.get("route")
            log.info(
                "%s %s %s %.1fms",
                request.method,
                getattr(route, "path", "<unmatched>"),
                status,
                (time.perf_counter() - start) * 1000,
            )
