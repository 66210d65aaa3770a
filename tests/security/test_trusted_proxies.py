"""KITRUN_TRUSTED_PROXIES: X-Forwarded-For is believed only from a trusted peer, and then names
the client for every limit (issue 15: behind any proxy but 127.0.0.1 every client was one
address, so 30 failed log-ins slowed every staff member down)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.core.config import ConfigError, Settings
from models.audit import AuditEntry
from tests import factories as f

PROXY, STRANGER = ("10.0.0.2", 40000), ("192.0.2.50", 40000)


def _app(settings: Settings, trusted: str):  # noqa: ANN202
    from app.main import create_app

    settings = settings.model_copy(
        update={
            "trusted_proxies": trusted,
            "login_free_failures": 100,
            "login_free_failures_per_ip": 2,
        }
    )
    settings.__dict__.pop("trusted_proxy_list", None)
    return create_app(settings)


def _guess(client: TestClient, forwarded: str | None = None, **headers: str) -> int:
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    r = client.post(
        "/api/v1/auth/token", json={"username": "nobody", "password": "wrong"}, headers=headers
    )
    return r.status_code


def _addresses(app) -> list[str]:  # noqa: ANN001
    with Session(app.state.engine) as s:
        rows = s.exec(select(AuditEntry).where(AuditEntry.action == "login.failed")).all()
        return [e.after["address"] for e in rows]


def test_a_trusted_proxy_names_the_client(settings) -> None:  # noqa: ANN001
    app = _app(settings, "10.0.0.0/24, 127.0.0.1")
    try:
        with TestClient(app, client=PROXY) as c:
            assert [_guess(c, "198.51.100.1") for _ in range(3)] == [401, 401, 429]
            # another client behind the same proxy has its own count
            assert _guess(c, "198.51.100.2") == 401
            # the right-most address that is not a trusted proxy: what the client wrote
            # itself, on the left, is not believed
            assert _guess(c, "1.1.1.1, 198.51.100.3, 10.0.0.3") == 401
            assert _guess(c, "1.1.1.1, 198.51.100.3, 10.0.0.3") == 401
            assert _guess(c, "1.1.1.2, 198.51.100.3") == 429
        assert _addresses(app) == ["198.51.100.1"] * 2 + ["198.51.100.2"] + ["198.51.100.3"] * 2
    finally:
        app.state.engine.dispose()


def test_an_untrusted_peer_cannot_choose_its_address(settings) -> None:  # noqa: ANN001
    app = _app(settings, "10.0.0.0/24")
    try:
        with TestClient(app, client=STRANGER) as c:
            # a new X-Forwarded-For each time does not buy new attempts
            assert [_guess(c, f"198.51.100.{i}") for i in range(3)] == [401, 401, 429]
        assert _addresses(app) == ["192.0.2.50"] * 2
    finally:
        app.state.engine.dispose()


def test_no_trusted_proxy_by_default(settings) -> None:  # noqa: ANN001
    assert settings.trusted_proxies == "" and settings.trusted_proxy_list == []
    app = _app(settings, "")
    try:
        with TestClient(app, client=("127.0.0.1", 40000)) as c:
            assert _guess(c, "198.51.100.1") == 401
        assert _addresses(app) == ["127.0.0.1"]
    finally:
        app.state.engine.dispose()


def test_the_proxy_says_https(settings) -> None:  # noqa: ANN001
    """Behind a trusted proxy that ends TLS the session cookie is Secure."""
    app = _app(settings, "10.0.0.2")
    try:
        with TestClient(app, client=PROXY) as c:
            with Session(app.state.engine) as s:
                f.user(s)
            r = c.post(
                "/api/v1/auth/token",
                json={"username": "dip", "password": f.PASSWORD},
                headers={"X-Forwarded-For": "198.51.100.1"},
            )
            assert r.status_code == 200
            c.get("/login", headers={"X-Forwarded-Proto": "https"})
            r = c.post(
                "/login",
                data={
                    "username": "dip",
                    "password": f.PASSWORD,
                    "csrf_token": c.cookies.get("kitrun_csrf"),
                },
                headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1"},
                follow_redirects=False,
            )
            assert r.status_code == 303, r.text
            assert "secure" in r.headers["set-cookie"].lower()
    finally:
        app.state.engine.dispose()


@pytest.mark.parametrize("bad", ["*", "proxy.local", "10.0.0.0/33", "10.0.0.1;10.0.0.2"])
def test_a_proxy_that_is_no_address_stops_the_start(tmp_path, bad: str) -> None:  # noqa: ANN001
    from app.main import create_app

    settings = Settings(data_dir=tmp_path, secret_key="x", trusted_proxies=bad)
    with pytest.raises(ConfigError, match="KITRUN_TRUSTED_PROXIES"):
        create_app(settings)
