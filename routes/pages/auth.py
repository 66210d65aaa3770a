"""Login, logout and the language switch."""

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts import service as accounts
from app.core.errors import DomainError
from app.core.i18n import LOCALES
from routes.http.session import SessionDep
from routes.http.web import LANG_COOKIE, SESSION_COOKIE, gettext, render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the login page cannot be used to redirect elsewhere."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(
        request, "accounts/login.html", {"next": _safe_next(next), "error": None, "username": ""}
    )


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=80)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    s = request.app.state.settings
    try:
        user = accounts.authenticate(
            session=session,
            username=username,
            password=password,
            address=request.client.host if request.client else "?",
            settings=s,
        )
    except DomainError as exc:
        page = render(
            request,
            "accounts/login.html",
            {
                "next": _safe_next(next),
                "error": exc.localized(gettext(request)),
                "username": username,
            },
            status_code=exc.status_code,
        )
        page.headers.update(exc.headers)  # Retry-After of a throttled attempt
        return page
    raw, _tok = accounts.issue_token(
        session=session, user=user, kind="session", days=s.session_days
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=s.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=s.base_url.startswith("https") or request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        accounts.revoke_token(session=session, raw=raw)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, next: str | None = None) -> Response:
    """Switch language without JavaScript: set the cookie and go back."""
    response = RedirectResponse(_safe_next(next), status_code=303)
    if code in LOCALES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax")
    return response
