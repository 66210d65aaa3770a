from datetime import timedelta

import pytest
from sqlmodel import select

from app.accounts import service as accounts
from app.core.config import Settings
from app.core.errors import Conflict, Invalid, TooManyRequests, Unauthorized
from app.core.security import hash_password, verify_password
from models.audit import AuditEntry
from models.base import utcnow
from models.users import User, UserToken
from tests.factories import PASSWORD, user

SETTINGS = Settings(secret_key="x", login_free_failures=3, login_free_failures_per_ip=100)


def _auth(session, username="dip", password=PASSWORD, address="10.0.0.1", now=None):
    return accounts.authenticate(
        session=session,
        username=username,
        password=password,
        address=address,
        settings=SETTINGS,
        now=now,
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


def test_login_failures_slow_one_address_down_and_lock_no_one_out(session):
    """Regression (issue 15): 5 wrong passwords locked the account for everyone."""
    user(session)
    t = 1_000_000.0
    for _ in range(3):
        with pytest.raises(Unauthorized):
            _auth(session, password="nope", now=t)
    with pytest.raises(TooManyRequests) as refused:
        _auth(session, now=t)  # from this address, even the right password waits...
    assert refused.value.retry_after == 30 and refused.value.headers == {"Retry-After": "30"}
    # ...but from another address the owner logs in at once
    assert _auth(session, address="10.9.9.9", now=t).username == "dip"
    # another account from the same address is not affected
    user(session, "other")
    assert _auth(session, username="other", now=t).username == "other"
    # after the wait one more try: wrong again, and the next wait doubles
    with pytest.raises(Unauthorized):
        _auth(session, password="nope", now=t + 30)
    with pytest.raises(TooManyRequests) as refused:
        _auth(session, now=t + 60)
    assert refused.value.retry_after == 30  # 60 s after t + 30
    assert _auth(session, now=t + 90).username == "dip"
    # a right password gives the attempts back: three free ones again
    for _ in range(3):
        with pytest.raises(Unauthorized):
            _auth(session, password="nope", now=t + 91)
    # a day after they began, the counts start afresh
    assert _auth(session, now=t + 91 + 86400).username == "dip"


def test_login_delays_double_up_to_the_maximum():
    from app.accounts.throttle import Policy

    p = Policy(free=5, delay=30, max_delay=900)
    assert [p.wait_after(n, 5) for n in range(3, 12)] == [0, 0, 30, 60, 120, 240, 480, 900, 900]


def test_login_attempts_per_address_are_throttled_across_accounts(session):
    settings = Settings(secret_key="x", login_free_failures=100, login_free_failures_per_ip=4)
    t = 2_000_000.0
    for i in range(4):
        with pytest.raises(Unauthorized):
            accounts.authenticate(
                session=session, username=f"u{i}", password="x", address="10.0.0.7",
                settings=settings, now=t,
            )  # fmt: skip
    with pytest.raises(TooManyRequests):
        accounts.authenticate(
            session=session, username="u9", password="x", address="10.0.0.7",
            settings=settings, now=t,
        )  # fmt: skip
    # nothing was checked for the refused attempt: only four failures were recorded
    failed = session.exec(select(AuditEntry).where(AuditEntry.action == "login.failed")).all()
    assert len(failed) == 4


def test_an_offices_typos_do_not_add_up_over_the_days(session):
    """Staff behind one address log in every day and mistype now and then: each day's window
    starts afresh, so the address is never slowed down by last month's typos."""
    settings = Settings(secret_key="x", login_free_failures_per_ip=3)
    user(session)
    t = 3_000_000.0
    for day in range(5):
        at = t + day * 86400
        for _ in range(2):
            with pytest.raises(Unauthorized):
                accounts.authenticate(
                    session=session, username="dip", password="typo", address="10.0.0.8",
                    settings=settings, now=at,
                )  # fmt: skip
        assert accounts.authenticate(
            session=session, username="dip", password=PASSWORD, address="10.0.0.8",
            settings=settings, now=at + 60,
        ).username == "dip"  # fmt: skip


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
