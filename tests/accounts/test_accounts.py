from datetime import timedelta

import pytest
from sqlmodel import select

from app.accounts import service as accounts
from app.core.errors import Conflict, Invalid, TooManyRequests, Unauthorized
from app.core.security import hash_password, verify_password
from models.base import utcnow
from models.users import User, UserToken
from tests.factories import PASSWORD, user


def _auth(session, username="dip", password=PASSWORD, address="10.0.0.1", max_user=3):
    return accounts.authenticate(
        session=session,
        username=username,
        password=password,
        address=address,
        max_per_user=max_user,
        max_per_ip=100,
        window_seconds=600,
    )


def test_passwords_hash_with_argon2():
    h = hash_password("s3cret-pass")
    assert h.startswith("$argon2")
    assert verify_password("s3cret-pass", h)
    assert not verify_password("wrong", h)
    assert not verify_password("anything", None)


def test_create_user_rules(session):
    u = user(session, "Alice", "volunteer")
    assert u.username == "alice" and u.role == "volunteer"
    with pytest.raises(Conflict):
        user(session, "ALICE")
    with pytest.raises(Invalid):
        accounts.create_user(session=session, username="bob", password="short", role="diplomat")
    with pytest.raises(Invalid):
        accounts.create_user(session=session, username="bob", password=PASSWORD, role="king")
    assert session.exec(select(User).where(User.username == "bob")).first() is None


def test_role_is_a_database_constraint(session):
    from sqlalchemy.exc import IntegrityError

    session.add(User(username="x", role="king", password_hash="h"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_login_failures_are_limited_per_account(session):
    user(session)
    for _ in range(3):
        with pytest.raises(Unauthorized):
            _auth(session, password="nope")
    with pytest.raises(TooManyRequests):
        _auth(session)  # even the right password is refused while limited
    # another account from the same address is not affected
    user(session, "other")
    assert _auth(session, username="other").username == "other"


def test_tokens_expire_and_revoke(session):
    u = user(session)
    raw, tok = accounts.issue_token(session=session, user=u, kind="api", days=1)
    assert session.exec(select(UserToken).where(UserToken.token_hash == raw)).first() is None
    assert accounts.user_for_token(session=session, raw=raw, kind="api").id == u.id
    assert accounts.user_for_token(session=session, raw=raw, kind="session") is None
    tok.expires_at = utcnow() - timedelta(seconds=1)
    session.add(tok)
    session.commit()
    assert accounts.user_for_token(session=session, raw=raw, kind="api") is None
    assert accounts.token_state(session=session, raw=raw, kind="api") == "expired"
    raw2, _ = accounts.issue_token(session=session, user=u, kind="api", days=1)
    accounts.revoke_token(session=session, raw=raw2)
    assert accounts.token_state(session=session, raw=raw2, kind="api") == "revoked"


def test_set_password_revokes_tokens(session):
    u = user(session)
    raw, _ = accounts.issue_token(session=session, user=u, kind="session", days=1)
    accounts.set_password(session=session, username="dip", password="another-pass-1")
    assert accounts.user_for_token(session=session, raw=raw, kind="session") is None
    assert _auth(session, password="another-pass-1").id == u.id
