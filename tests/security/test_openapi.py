"""The OpenAPI tells the truth: a bearer scheme on every protected operation, and each
operation's error answers in the one error shape, as the API really gives them."""

from __future__ import annotations

import re

import pytest

from models.base import ErrorBody
from tests import factories as f

ERROR_REF = "#/components/schemas/ErrorBody"
PUBLIC = {
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/api/v1/campaigns/{public_id}/claims"),
    ("get", "/api/v1/claims/{token}"),
    ("post", "/api/v1/auth/token"),
    ("get", "/api/v1/public/schools"),
    ("get", "/api/v1/public/campaigns/{public_id}/notice"),
    ("post", "/api/v1/campaigns/{public_id}/claims/find"),
}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The document alone (no database is opened to build it)."""
    from app.core.config import Settings
    from app.main import create_app

    data = tmp_path_factory.mktemp("openapi")
    app = create_app(
        Settings(data_dir=data, database_url=f"sqlite:///{data}/x.db", secret_key="openapi")
    )
    document = app.openapi()
    app.state.engine.dispose()
    return document


def _operations(spec: dict):  # noqa: ANN202
    for path, item in spec["paths"].items():
        for method, op in item.items():
            yield method, path, op


def _error_schema(op: dict, code: int) -> str | None:
    response = op["responses"].get(str(code))
    if response is None:
        return None
    return response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")


def test_bearer_scheme_on_every_protected_operation(spec):
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearer"]["description"],
    }
    unprotected = [
        (m, p) for m, p, op in _operations(spec) if not op.get("security") and (m, p) not in PUBLIC
    ]
    assert unprotected == []
    for method, path in PUBLIC:
        assert not spec["paths"][path][method].get("security"), (method, path)


def test_error_answers_are_documented_in_the_error_shape(spec):
    problems = []
    for method, path, op in _operations(spec):
        where = f"{method.upper()} {path}"
        if op.get("security") and _error_schema(op, 401) != ERROR_REF:
            problems.append(f"{where}: no 401")
        roles = [r for req in op.get("security", []) for r in req.values() if r]
        writes = method in ("post", "put", "patch", "delete")
        if op.get("security") and (roles or writes) and _error_schema(op, 403) != ERROR_REF:
            problems.append(f"{where}: no 403 for its role or CSRF rule")
        if "{" in path and _error_schema(op, 404) != ERROR_REF:
            problems.append(f"{where}: path parameter without 404")
        if "requestBody" in op and _error_schema(op, 413) != ERROR_REF:
            problems.append(f"{where}: body without 413")
        if "requestBody" in op and _error_schema(op, 400) != ERROR_REF:
            problems.append(f"{where}: body without 400 (unparseable)")
        if _error_schema(op, 422) != ERROR_REF:
            problems.append(f"{where}: 422 not in the error shape")
    assert problems == []
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    body = spec["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["error"]
    info = spec["components"]["schemas"]["ErrorInfo"]
    assert set(info["properties"]) == {"code", "message", "details", "request_id"}


def test_roles_are_named_in_the_security_requirement(spec):
    assert spec["paths"]["/api/v1/items"]["get"]["security"] == [{"bearer": ["diplomat"]}]
    assert spec["paths"]["/api/v1/auth/me"]["get"]["security"] == [{"bearer": []}]


def test_route_specific_answers(spec):
    """Rate limits, conflicts and the health check's 503, as the routes give them."""
    p = spec["paths"]
    assert _error_schema(p["/api/v1/campaigns/{public_id}/claims"]["post"], 429) == ERROR_REF
    assert _error_schema(p["/api/v1/campaigns/{public_id}/claims"]["post"], 409) == ERROR_REF
    assert _error_schema(p["/api/v1/public/schools"]["get"], 429) == ERROR_REF
    assert _error_schema(p["/api/v1/auth/token"]["post"], 401) == ERROR_REF
    assert _error_schema(p["/api/v1/items"]["post"], 409) == ERROR_REF
    assert _error_schema(p["/healthz"]["get"], 503) == ERROR_REF
    # the scan's 409 is its own answer (result: nonce_reused), not the error shape only
    assert "nonce_reused" in p["/api/v1/scans"]["post"]["responses"]["409"]["description"]


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


# The scan endpoint checks its credentials in the service, after its body is read (one round
# trip for the hot path): give it a valid body to reach that check.
BODIES = {
    "/api/v1/scans": {
        "code": "K7M3Q-9XP2A",
        "nonce": "n1",
        "point_id": 1,
        "scanned_at": "2026-05-01T09:30:00Z",
    }
}


def _body(path: str, op: dict) -> dict | None:
    return BODIES.get(path, {}) if "requestBody" in op else None


def test_protected_operations_answer_401_in_the_error_shape(client, spec):
    """What the document says is what the API does: no credentials, 401 everywhere."""
    wrong = []
    for method, path, op in _operations(spec):
        if not op.get("security"):
            continue
        r = client.request(method.upper(), _url(path), json=_body(path, op))
        if r.status_code != 401 or ErrorBody.model_validate(r.json()).error.code != "unauthorized":
            wrong.append(f"{method.upper()} {path}: {r.status_code}")
    assert wrong == []


def test_a_volunteer_gets_403_on_diplomat_operations(client, spec):
    headers = f.api_headers(client, "vol", "volunteer")
    wrong = []
    for method, path, op in _operations(spec):
        if not any(r for req in op.get("security", []) for r in req.values()):
            continue
        r = client.request(
            method.upper(),
            _url(path),
            json=_body(path, op),
            headers=headers,
        )
        code = ErrorBody.model_validate(r.json()).error.code if r.status_code == 403 else None
        if code != "forbidden_role":
            wrong.append(f"{method.upper()} {path}: {r.status_code}")
    assert wrong == []


def test_unparseable_body_answers_400_in_the_error_shape(client, spec):
    headers = f.api_headers(client)
    r = client.post(
        "/api/v1/items",
        content=b"\x80\x81",  # not UTF-8: FastAPI cannot even decode it
        headers={**headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and "400" in spec["paths"]["/api/v1/items"]["post"]["responses"]
    ErrorBody.model_validate(r.json())


def test_validation_errors_use_the_error_shape(client):
    headers = f.api_headers(client)
    for r in (
        client.get("/api/v1/items?limit=0", headers=headers),
        client.post("/api/v1/items", json={"sku": 1}, headers=headers),
        client.get("/api/v1/items/not-a-number", headers=headers),
    ):
        assert r.status_code == 422, r.text
        body = ErrorBody.model_validate(r.json())
        assert body.error.code == "validation_error" and body.error.details
