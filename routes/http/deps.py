"""Request dependencies: who is calling, role guards, CSRF on form posts."""

import functools
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.accounts import service as accounts
from app.core import security
from app.core.db import autocommit_reads, write_intent
from app.core.errors import N_, CsrfFailed, Forbidden
from models.users import Role, User
from routes.http.session import SessionDep
from routes.http.web import SESSION_COOKIE

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# The API's security scheme, as the OpenAPI declares it: each operation that depends on it lists
# `security` (with the role it needs, e.g. ["diplomat"]). auto_error=False: the dependencies
# below say what is missing in the API's error shape (and also accept the pages' session cookie).
BEARER = HTTPBearer(
    scheme_name="bearer",
    description="An API token from POST /api/v1/auth/token: `Authorization: Bearer <token>`.",
    auto_error=False,
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


class LoginRequired(Exception):
    """A page needs a logged-in user; the handler redirects to the login page."""


def bearer_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def check_csrf(request: Request) -> None:
    """Every form post carries the request's CSRF token (routes.http.context): bound to the
    session when logged in, else the browser's cookie (double submit); cookies are SameSite=Lax."""
    if request.method not in UNSAFE:
        return
    submitted = request.headers.get("x-csrf-token")
    if submitted is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            submitted = value if isinstance(value, str) else None
    if not security.csrf_matches(_expected_csrf(request), submitted):
        endpoint = request.scope.get("endpoint")
        if getattr(endpoint, "shows_csrf_refusal", False):
            request.state.csrf_refused = True  # the handler refuses, keeping what was typed
            return
        raise CsrfFailed(
            N_(
                "The form expired or was sent from elsewhere (missing CSRF token). "
                "Reload the page and try again."
            )
        )


def shows_csrf_refusal(endpoint):  # noqa: ANN001, ANN201
    """Mark a form handler that refuses a failed CSRF check itself, showing the form again with
    what was typed (the student's claim form): check_csrf then sets `request.state.csrf_refused`
    instead of raising, and the handler must do nothing else when it is set."""
    endpoint.shows_csrf_refusal = True
    return endpoint


async def bearer(credentials: Credentials) -> str | None:
    """The bearer token as sent, unchecked: for an endpoint whose service verifies it in its
    own first read (the scan endpoint), saving a round trip. No database work here."""
    return credentials.credentials if credentials else None


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
    def wrapper(request: Request, session: SessionDep, **kwargs):  # noqa: ANN003, ANN202
        token = write_intent.set(False)
        autocommit_reads(session)
        try:
            return dependency(request, session, **kwargs)
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
def api_user(request: Request, session: SessionDep, credentials: Credentials = None) -> User:
    """The API caller: a bearer token, or the page session cookie plus a CSRF header."""
    unsafe = request.method in UNSAFE
    user = accounts.api_caller(
        session=session,
        bearer=credentials.credentials if credentials else None,
        cookie=request.cookies.get(SESSION_COOKIE),
        csrf_ok=not unsafe or csrf_header_ok(request),
    )
    _act_as(session, user)
    request.state.user = user
    return user


def _expected_csrf(request: Request) -> str | None:
    # Derived from the session cookie when there is one; only an anonymous request's token
    # comes from the CSRF cookie (and a missing cookie gives a new token nobody can know).
    return getattr(request.state, "csrf_token", None)


def csrf_header_ok(request: Request) -> bool:
    """Whether the request's X-CSRF-Token header is the request's CSRF token."""
    return security.csrf_matches(_expected_csrf(request), request.headers.get("x-csrf-token"))


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
# Security(scopes=…): the OpenAPI names the role an operation needs in its security requirement
# (OpenAPI 3.1 allows role names for non-OAuth schemes); the guard itself checks it.
ApiDiplomat = Annotated[
    User, Security(_role_guard(Role.diplomat, api_user), scopes=[Role.diplomat.value])
]
PageUser = Annotated[User, Depends(require_page_user)]
PageDiplomat = Annotated[User, Depends(_role_guard(Role.diplomat, require_page_user))]
OptionalPageUser = Annotated[User | None, Depends(page_user)]
