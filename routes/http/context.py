"""Per-request context as plain ASGI middleware: language, CSRF token, SQLite write intent, the
request id, the log line and the latency metric.

(Starlette's BaseHTTPMiddleware costs a task and a stream per request; this does not.)
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.core import security
from app.core.config import Settings
from app.core.db import write_intent
from app.core.i18n import LOCALES, normalize
from app.core.logs import request_id
from app.core.metrics import observe_request
from routes.http.web import CSRF_COOKIE, LANG_COOKIE, SESSION_COOKIE

log = logging.getLogger("kitrun.http")
# A trusted proxy's X-Request-ID is kept when it looks like an id (HAProxy's unique-id, a UUID):
# it lands in logs and pages, so nothing else is taken.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")
VIA_PROXY = "kitrun.via_proxy"


def route_template(scope: dict) -> str:
    """The matched route's full template ("/api/v1/claims/{token}"), never the concrete path.
    FastAPI's nested routers set `scope["route"]` to the route inside its router (without the
    router's prefix); the full template is on the effective route context FastAPI keeps."""
    context = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(context, "path", None) or getattr(scope.get("route"), "path", None)
    return path or "<unmatched>"


class TrustedProxies(ProxyHeadersMiddleware):
    """uvicorn's X-Forwarded-For reading (KITRUN_TRUSTED_PROXIES), noting in the scope that the
    peer was a trusted proxy: then its X-Request-ID is believed too."""

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        client = scope.get("client")
        if client and client[0] in self.trusted_hosts:
            scope[VIA_PROXY] = True
        await super().__call__(scope, receive, send)


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


def _session_set(headers: MutableHeaders) -> str | None:
    """The session cookie this response sets ("" when it deletes it), or None."""
    for value in headers.getlist("set-cookie"):
        if value.startswith(SESSION_COOKIE + "="):
            morsel = SimpleCookie(value).get(SESSION_COOKIE)
            return morsel.value if morsel is not None else ""
    return None


class RequestContext:
    def __init__(self, app, settings: Settings) -> None:  # noqa: ANN001
        self.app = app
        self.settings = settings
        self.secure = settings.base_url.startswith("https")

    def _csrf_token(self, session_cookie: str | None, csrf_cookie: str | None) -> str:
        """The CSRF token forms must carry: bound to the session when logged in (an HMAC of
        it); else the browser's own random one from its cookie (double submit), or a new one."""
        if session_cookie:
            return security.session_csrf_token(self.settings.secret, session_cookie)
        return csrf_cookie or security.new_csrf_token()

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            # Static files carry no cookie (a shared cache may keep them): routes/http/static.py
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
        state["csrf_token"] = self._csrf_token(request.cookies.get(SESSION_COOKIE), csrf)
        state["user"] = None
        rid = scope.get(VIA_PROXY) and request.headers.get("x-request-id")
        if not rid or not SAFE_REQUEST_ID.fullmatch(rid):
            rid = secrets.token_hex(8)
        state["request_id"] = rid
        rid_token = request_id.set(rid)
        status = 500

        async def send_wrapper(message) -> None:  # noqa: ANN001
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers.append("x-request-id", rid)
                token = state["csrf_token"]
                login = _session_set(headers)
                if login is not None:  # logged in or out: the next pages use the new token
                    token = self._csrf_token(login, None)
                if token != csrf and (login is not None or not wants_json(path)):
                    headers.append(
                        "set-cookie", _cookie(CSRF_COOKIE, token, max_age=None, secure=self.secure)
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
            elapsed = time.perf_counter() - start
            route = route_template(scope)
            observe_request(request.method, route, status, elapsed)
            log.info("%s %s %s %.1fms", request.method, route, status, elapsed * 1000)
            request_id.reset(rid_token)
