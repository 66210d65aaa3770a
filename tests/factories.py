"""Small typed factories for tests."""

from __future__ import annotations

from sqlmodel import Session

from app.services import accounts
from models.users import User

PASSWORD = "correct-horse-42"


def user(session: Session, username: str = "dip", role: str = "diplomat") -> User:
    return accounts.create_user(session=session, username=username, password=PASSWORD, role=role)


def api_headers(client, username: str = "dip", role: str = "diplomat") -> dict[str, str]:  # noqa: ANN001
    """Create a user through the service and log in through the API; return bearer headers."""
    from sqlmodel import Session as S

    with S(client.app.state.engine) as s:
        user(s, username, role)
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def login_page(client, username: str = "dip", role: str = "diplomat") -> None:  # noqa: ANN001
    """Create a user and log in through the login form (cookie session)."""
    from sqlmodel import Session as S

    with S(client.app.state.engine) as s:
        user(s, username, role)
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "next": "/",
            "csrf_token": client.cookies.get("kitrun_csrf"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
