"""Security headers on every answer, as plain ASGI middleware (README, "Headers and CSRF").

A response that sets one of these headers itself keeps its own value: the student's status page
sends `Referrer-Policy: no-referrer`, the public school search a short public `Cache-Control`.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders

# No inline script or style anywhere: scripts and styles come from our origin only (JSON data
# blocks, `<script type="application/json">`, are not run and need no exception). The camera
# decoder compiles WebAssembly ('wasm-unsafe-eval', not 'unsafe-eval'); fetches stay on our
# origin; nothing may frame a page (clickjacking).
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}
# Staff pages, students' pages and API answers carry personal data: never stored by a browser
# or a proxy. Static files (scripts, styles, the decoder) are the exception.
NO_STORE = "no-store"
STATIC = "/static/"
TOKEN_PAGES = "/s/"


def csp(img_origin: str | None = None) -> str:
    """The policy; `img_origin` (the map's tile server, KITRUN_TILE_URL) may serve images too."""
    if not img_origin:
        return CSP
    return CSP.replace("img-src 'self' data:", f"img-src 'self' data: {img_origin}")


def security_headers(path: str, policy: str = CSP) -> dict[str, str]:
    """The headers an answer for `path` gets unless it sets them itself."""
    headers = {
        **COMMON,
        "content-security-policy": policy,
    }
    if not path.startswith(STATIC):
        headers["cache-control"] = NO_STORE
    if path.startswith(TOKEN_PAGES):  # the address is the claim's secret: never sent on
        headers["referrer-policy"] = "no-referrer"
    return headers


class SecurityHeaders:
    """Adds `security_headers(path)` to every HTTP response start."""

    def __init__(self, app, img_origin: str | None = None) -> None:  # noqa: ANN001
        self.app = app
        self.policy = csp(img_origin)

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"], self.policy)

        async def send_wrapper(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_wrapper)
