from datetime import timedelta

from fastapi import APIRouter
from sqlmodel import Session, select

from models.base import utcnow
from models.users import UserToken
from routes.http.deps import ApiDiplomat
from tests.factories import PASSWORD, api_headers, user


def _err(r, status, code=None):
    assert r.status_code == status, r.text
    body = r.json()
    fields = {"code", "message", "details", "request_id"}
    assert set(body) == {"error"} and set(body["error"]) == fields
    assert body["error"]["message"] and body["error"]["request_id"] == r.headers["x-request-id"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_openapi_documents_the_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/auth/token" in paths


def test_token_flow(client):
    headers = api_headers(client)
    me = client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["username"] == "dip"
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    _err(client.get("/api/v1/auth/me", headers=headers), 401, "token_revoked")


def test_wrong_password_changes_nothing(client):
    with Session(client.app.state.engine) as s:
        user(s)
    e = _err(client.post("/api/v1/auth/token", json={"username": "dip", "password": "x"}), 401)
    assert e["code"] == "bad_credentials"
    with Session(client.app.state.engine) as s:
        assert s.exec(select(UserToken)).all() == []


def test_expired_token(client):
    headers = api_headers(client)
    with Session(client.app.state.engine) as s:
        for tok in s.exec(select(UserToken)):
            tok.expires_at = utcnow() - timedelta(minutes=1)
            s.add(tok)
        s.commit()
    e = _err(client.get("/api/v1/auth/me", headers=headers), 401, "token_expired")
    assert "expired" in e["message"]


def test_missing_token_and_malformed_json(client):
    _err(client.get("/api/v1/auth/me"), 401, "unauthorized")
    e = _err(
        client.post(
            "/api/v1/auth/token", content="{bad", headers={"content-type": "application/json"}
        ),
        422,
        "validation_error",
    )
    assert "JSON" in e["message"]
    e = _err(client.post("/api/v1/auth/token", json={"username": "dip"}), 422, "validation_error")
    assert e["details"][0]["field"] == "password"


def test_unknown_route_and_method(client):
    _err(client.get("/api/v1/nothing-here"), 404, "not_found")
    _err(client.put("/api/v1/auth/token", json={}), 405, "method_not_allowed")


def test_volunteer_cannot_use_diplomat_guard(client):
    router = APIRouter()

    @router.get("/api/v1/_probe")
    def probe(user: ApiDiplomat) -> dict:
        return {"ok": True}

    client.app.include_router(router)
    vol = api_headers(client, "vol", "volunteer")
    _err(client.get("/api/v1/_probe", headers=vol), 403, "forbidden_role")
    dip = api_headers(client, "dip2", "diplomat")
    assert client.get("/api/v1/_probe", headers=dip).json() == {"ok": True}


def test_rate_limited_token_endpoint(client):
    with Session(client.app.state.engine) as s:
        user(s)
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "dip", "password": "bad"})
    e = _err(client.post("/api/v1/auth/token", json={"username": "dip", "password": PASSWORD}), 429)
    assert e["code"] == "rate_limited"
