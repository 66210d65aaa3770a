"""Staff accounts: creating users, logging in (rate limited), session and API tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from app.accounts import throttle
from app.audit import trail as audit
from app.core import security
from app.core.config import Settings
from app.core.errors import N_, Conflict, CsrfFailed, Invalid, TooManyRequests, Unauthorized
from models.base import utcnow
from models.users import Role, User, UserToken


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    actor_id: int | None = None,
) -> User:
    """Create a staff account; usernames are unique and case-insensitive."""
    username = username.strip().lower()
    if not username or len(username) > 80:
        raise Invalid(N_("Username must be 1 to 80 characters."))
    if role not in Role.__members__:
        raise Invalid(f"Role must be one of: {', '.join(Role.__members__)}.")
    if len(password) < 8:
        raise Invalid(N_("Password must be at least 8 characters."))
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"User {username!r} already exists.")
    user = User(
        username=username,
        role=role,
        display_name=display_name or username,
        password_hash=security.hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        user_id=actor_id,
        action="user.create",
        object_type="user",
        object_id=user.id,
        after={"username": username, "role": role, "display_name": user.display_name},
    )
    session.commit()
    session.refresh(user)
    return user


def set_password(*, session: Session, username: str, password: str) -> User:
    """Change a user's password and revoke their sessions and tokens."""
    if len(password) < 8:
        raise Invalid(N_("Password must be at least 8 characters."))
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        raise Invalid(f"No user {username!r}.")
    user.password_hash = security.hash_password(password)
    now = utcnow()
    for tok in session.exec(
        select(UserToken).where(UserToken.user_id == user.id, UserToken.revoked_at.is_(None))
    ):
        tok.revoked_at = now
    session.add(user)
    session.commit()
    return user


def authenticate(
    *,
    session: Session,
    username: str,
    password: str,
    address: str,
    settings: Settings,
    now: float | None = None,
) -> User:
    """Check a password, throttled per (account, address) and per address (app/accounts/
    throttle.py): the attempt is counted before the check; 429 with the wait when it must."""
    username = username.strip().lower()
    policy = throttle.Policy.of(settings)
    wait = throttle.admit(session, username=username, address=address, policy=policy, now=now)
    if wait:
        raise TooManyRequests(
            N_("Too many failed log-ins from your address: try again in {seconds} seconds."),
            params={"seconds": wait},
            details={"retry_after_seconds": wait},
            retry_after=wait,
        )
    user = session.exec(select(User).where(User.username == username)).first()
    ok = security.verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.active:
        audit.record(
            session,
            user_id=None,
            action="login.failed",
            object_type="user",
            object_id=user.id if user else username,
            after={"username": username, "address": address},
        )
        session.commit()
        raise Unauthorized(N_("Wrong username or password."), code="bad_credentials")
    throttle.succeeded(session, username=username, address=address, policy=policy)
    session.commit()
    return user


def issue_token(*, session: Session, user: User, kind: str, days: int) -> tuple[str, UserToken]:
    """Create a session or API token; the clear token is returned once and never stored."""
    raw = security.new_token()
    tok = UserToken(
        token_hash=security.token_hash(raw),
        kind=kind,
        user_id=user.id,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(tok)
    session.commit()
    session.refresh(tok)
    return raw, tok


def user_for_token(*, session: Session, raw: str, kind: str) -> User | None:
    """The active user behind a live token, or None when unknown, expired or revoked."""
    return session.exec(
        select(User)
        .join(UserToken, UserToken.user_id == User.id)
        .where(
            UserToken.token_hash == security.token_hash(raw),
            UserToken.kind == kind,
            UserToken.revoked_at.is_(None),
            UserToken.expires_at > utcnow(),
            User.active,
        )
    ).first()


def token_state(*, session: Session, raw: str, kind: str) -> str:
    """'ok', 'expired', 'revoked' or 'unknown', so the API can say which."""
    tok = session.exec(
        select(UserToken).where(
            UserToken.token_hash == security.token_hash(raw), UserToken.kind == kind
        )
    ).first()
    if tok is None:
        return "unknown"
    if tok.revoked_at is not None:
        return "revoked"
    if tok.expires_at <= utcnow():
        return "expired"
    return "ok"


def revoke_token(*, session: Session, raw: str) -> None:
    """Revoke a session or API token (logout, or an API client giving its token back)."""
    tok = session.exec(
        select(UserToken).where(UserToken.token_hash == security.token_hash(raw))
    ).first()
    if tok is not None and tok.revoked_at is None:
        tok.revoked_at = utcnow()
        session.add(tok)
        session.commit()


AUTH_REQUIRED = N_(
    "Authentication required: send 'Authorization: Bearer <token>' (from POST /api/v1/auth/token)."
)
API_CSRF_MISSING = N_("Cookie-authenticated API calls need the X-CSRF-Token header.")


def bearer_refusal(*, session: Session, raw: str) -> Unauthorized:
    """The 401 for a bearer token that is not (or no longer) valid, saying which."""
    state = token_state(session=session, raw=raw, kind="api")
    reason = {"expired": "has expired", "revoked": "was revoked"}.get(state, "is unknown")
    return Unauthorized(
        f"The bearer token {reason}; get a new one from POST /api/v1/auth/token.",
        code=f"token_{state}",
    )


def api_caller(*, session: Session, bearer: str | None, cookie: str | None, csrf_ok: bool) -> User:
    """The API's caller: the owner of a bearer token, or of the page's session cookie when the
    write carries its CSRF header (`csrf_ok`); 401 or 403 saying what is missing."""
    if bearer:
        user = user_for_token(session=session, raw=bearer, kind="api")
        if user is None:
            raise bearer_refusal(session=session, raw=bearer)
        return user
    user = user_for_token(session=session, raw=cookie, kind="session") if cookie else None
    if user is None:
        raise Unauthorized(AUTH_REQUIRED)
    if not csrf_ok:
        raise CsrfFailed(API_CSRF_MISSING)
    return user
