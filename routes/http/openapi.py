"""The OpenAPI's error answers: every one in the one error shape (models.base.ErrorBody).

Two sources, so that no operation can forget one:
- what follows from an operation's shape is added to the generated document by
  `document_errors`: 401 when it has a security requirement, 403 when that names a role or the
  method writes (a cookie session without its CSRF header), 404 for a path parameter, 400 (a
  body that cannot be parsed at all) and 413 (too large) for a request body, and 422
  (validation, in our shape instead of FastAPI's HTTPValidationError) on every operation, since
  every request is checked for NUL characters;
- what a route's own rules give (a conflict, a rate limit, an object rule, a reference in the
  body that does not exist) the route declares with `responses=errors(…)`.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from models.base import ErrorBody

DESCRIPTIONS = {
    400: "The body cannot be parsed (bytes that are not UTF-8 JSON, a broken multipart form)",
    401: "No valid credentials: a bearer token (or a logged-in page's session cookie)",
    403: "Not allowed: the role, the object's owner rule, or a session write without its "
    "X-CSRF-Token header",
    404: "No such object (or not visible to the caller)",
    409: "Conflict with the current state (already done, out of stock, closed, …)",
    413: "The request body is too large",
    422: "Invalid input: `details` lists each field and what is wrong with it",
    429: "Too many requests: wait and try again",
    503: "Unavailable: the database does not answer",
}
REF = "#/components/schemas/{model}"
_ERROR_REF = {"$ref": REF.format(model=ErrorBody.__name__)}
_ROLE_OR_WRITE_403 = {"post", "put", "patch", "delete"}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with the error shape and its usual meaning."""
    return {code: {"model": ErrorBody, "description": DESCRIPTIONS[code]} for code in codes}


def _error_response(code: int) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[code],
        "content": {"application/json": {"schema": dict(_ERROR_REF)}},
    }


def _generic_codes(method: str, op: dict[str, Any], path: str) -> list[int]:
    codes = []
    security = op.get("security") or []
    if security:
        codes.append(401)
        roles = any(scopes for requirement in security for scopes in requirement.values())
        if roles or method in _ROLE_OR_WRITE_403:
            codes.append(403)
    if "{" in path:  # a path parameter names an object, which may not exist
        codes.append(404)
    if "requestBody" in op:
        codes += [400, 413]
    codes.append(422)
    return codes


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers every operation gives by its shape (idempotent, in place)."""
    _, defs = models_json_schema([(ErrorBody, "serialization")], ref_template=REF)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(defs.get("$defs", {}))
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            responses = op.setdefault("responses", {})
            for code in _generic_codes(method, op, path):
                current = responses.get(str(code))
                if current is None or _is_fastapi_422(current):
                    responses[str(code)] = _error_response(code)
    if not _uses(schema, "HTTPValidationError"):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema


def _is_fastapi_422(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").endswith("/HTTPValidationError")


def _uses(schema: dict[str, Any], name: str) -> bool:
    target = REF.format(model=name)

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            return node.get("$ref") == target or any(walk(v) for v in node.values())
        if isinstance(node, list):
            return any(walk(v) for v in node)
        return False

    return walk(schema.get("paths", {}))


def install(app: Any) -> None:
    """Make `app.openapi()` return the document with its error answers."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return document_errors(generate())

    app.openapi = openapi
