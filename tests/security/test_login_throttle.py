"""Log-in throttling against a real `kitrun serve --workers 2`: parallel guesses cannot pass the
free allowance, and they never lock the owner out (issue 15).

Before: 5 failures locked the account for everyone for 15 minutes, and on PostgreSQL 40
parallel guesses had 20 passwords checked (the failures were counted after the check).
"""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import Session, select

from app.core.db import make_engine
from models.audit import AuditEntry
from tests import factories as f
from tests.concurrency import burst
from tests.conftest import LiveServer

pytestmark = pytest.mark.slow

ATTACKER, OWNER = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def proxied_server(settings):  # noqa: ANN001, ANN201
    """Two workers behind a proxy on 127.0.0.1 (the test client says who it forwards for)."""
    engine = make_engine(settings)
    with Session(engine) as s:
        f.user(s, "dip", "diplomat")
    engine.dispose()
    server = LiveServer(settings, workers=2, env={"KITRUN_TRUSTED_PROXIES": "127.0.0.1"})
    yield server
    server.stop()


def _login(c: httpx.Client, url: str, password: str, address: str) -> httpx.Response:
    return c.post(
        f"{url}/api/v1/auth/token",
        json={"username": "dip", "password": password},
        headers={"X-Forwarded-For": address},
    )


def test_parallel_guesses_check_at_most_the_free_passwords(proxied_server, settings) -> None:  # noqa: ANN001
    url = proxied_server.url
    answers = burst(40, lambda c, i: _login(c, url, f"wrong-{i}", ATTACKER))
    codes = [r.status_code for r in answers]
    assert set(codes) <= {401, 429}, codes
    checked = codes.count(401)
    assert 1 <= checked <= settings.login_free_failures, codes  # before: 20 of 40
    refused = [r for r in answers if r.status_code == 429]
    assert all(int(r.headers["Retry-After"]) > 0 for r in refused)
    assert refused[0].json()["error"]["code"] == "rate_limited"
    engine = make_engine(settings)
    with Session(engine) as s:
        failures = s.exec(select(AuditEntry).where(AuditEntry.action == "login.failed")).all()
    engine.dispose()
    # every password checked is recorded, with the client's address (not the proxy's)
    assert len(failures) == checked
    assert {e.after["address"] for e in failures} == {ATTACKER}
    with httpx.Client(timeout=30) as c:
        # the guesser's address waits, even with the right password...
        assert _login(c, url, f.PASSWORD, ATTACKER).status_code == 429
        # ...and the owner, from elsewhere, logs in at once (before: 429 for 15 minutes)
        r = _login(c, url, f.PASSWORD, OWNER)
        assert r.status_code == 200, r.text
