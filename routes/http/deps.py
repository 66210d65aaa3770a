"""Request dependencies: who is calling, role guards, CSRF on form posts."""

import functools
from typing import Annotated

from fastapi import Depends, Request

from app.accounts import service as accounts
from app.core import security
from app.core.db import autocommit_reads, write_intent
from app.core.errors import N_, CsrfFailed, Forbidden
from models.users import Role, User
from routes.http.session import SessionDep
from routes.http.web import CSRF_COOKIE, SESSION_COOKIE

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class LoginRequired(Exception):
    """A page needs a logged-in user; the handler redirects to the login page."""


def bearer_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def check_csrf(request: Request) -> None:
    """Every form post carries the CSRF token of its cookie (double submit, SameSite=Lax)."""
    if request.method not in UNSAFE:
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    submitted = request.headers.get("x-csrf-token")
    if submitted is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            submitted = value if isinstance(value, str) else None
    if not security.csrf_matches(cookie, submitted):
        raise CsrfFailed(
            N_(
                "The form expired or was sent from elsewhere (missing CSRF token). "
                "Reload the page and try again."
            )
        )


async def bearer(request: Request) -> str | None:
    """The bearer token as sent, unchecked: for an endpoint whose service verifies it in its
    own first read (the scan endpoint), saving a round trip. No database work here."""
    return bearer_token(request)


def _user_from_cookie(request: Request, session: SessionDep) -> User | None:
    raw = request.cookies.get(SESSION_COOKIE)
    return accounts.user_for_token(session=session, raw=raw, kind="session") if raw else None


def _act_as(session: SessionDep, user: User | None) -> None:
    """Changes this request makes through the ORM are audited as this user's."""
    if user is not None:
        session.info["actor_id"] = user.id


def _end_read(session: SessionDep) -> None:
    # Dependencies run in another thread than the endpoint: end their (read-only) transaction
    # here so no connection or SQLite write lock is held while waiting for the endpoint's thread.
    # (A commit, unlike a rollback, keeps the loaded user usable.)
    session.commit()


def _read_only(dependency):  # noqa: ANN001, ANN202
    """Run a user lookup as a read: SQLite begins deferred (no write lock); PostgreSQL runs it
    in autocommit, one round trip without BEGIN and COMMIT. Either way it has ended when the
    dependency returns, so the endpoint's own transaction starts afresh."""

    @functools.wraps(dependency)
    def wrapper(request: Request, session: SessionDep):  # noqa: ANN202
        token = write_intent.set(False)
        autocommit_reads(session)
        try:
            return dependency(request, session)
        finally:
            write_intent.reset(token)
            _end_read(session)

    return wrapper


@_read_only
def page_user(request: Request, session: SessionDep) -> User | None:
    """The logged-in staff member of a page, if any (also kept on request.state for templates)."""
    user = _user_from_cookie(request, session)
    _act_as(session, user)
    request.state.user = user
    return user


@_read_only
def api_user(request: Request, session: SessionDep) -> User:
    """The API caller: a bearer token, or the page session cookie plus a CSRF header."""
    unsafe = request.method in UNSAFE
    user = accounts.api_caller(
        session=session,
        bearer=bearer_token(request),
        cookie=request.cookies.get(SESSION_COOKIE),
        csrf_ok=not unsafe or csrf_header_ok(request),
    )
    _act_as(session, user)
    request.state.user = user
    return user


def csrf_header_ok(request: Request) -> bool:
    """Whether the request's X-CSRF-Token header matches its CSRF cookie."""
    return security.csrf_matches(
        request.cookies.get(CSRF_COOKIE), request.headers.get("x-csrf-token")
    )


def require_page_user(user: Annotated[User | None, Depends(page_user)]) -> User:
    if user is None:
        raise LoginRequired()
    return user


def _role_guard(role: Role, source):  # noqa: ANN001, ANN202
    def guard(user: Annotated[User, Depends(source)]) -> User:
        if user.role != role:
            raise Forbidden(
                N_("This needs a {role} account."),
                params={"role": role.value},
                code="forbidden_role",
            )
        return user

    return guard


ApiUser = Annotated[User, Depends(api_user)]
ApiDiplomat = Annotated[User, Depends(_role_guard(Role.diplomat, api_user))]
PageUser = Annotated[User, Depends(require_page_user)]
PageDiplomat = Annotated[User, Depends(_role_guard(Role.diplomat, require_page_user))]
OptionalPageUser = Annotated[User | None, Depends(page_user)]
