"""Limits on what a request may carry: body sizes, and no NUL character anywhere.

Body sizes are counted while the body streams in (BodyLimit): 1 MiB for JSON and forms, an
upload route's own limit above that (declared with `openapi_extra=upload_limit(...)`, which
also shows it in the OpenAPI as `x-max-body-bytes`); a larger body answers 413 in the one error
shape, refused from its Content-Length before anything is read. NUL characters are refused in
the path, the query, JSON bodies and forms alike (422 naming the field): PostgreSQL cannot store
them in text, and no form or scanner sends one.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import N_, Invalid
from models.base import INT32_MAX

MAX_BODY_BYTES = 1024 * 1024  # JSON bodies and forms without files
MULTIPART_OVERHEAD = 64 * 1024  # an upload route's limit: the file's own, plus this


PageNo = Annotated[int, Query(ge=1, le=INT32_MAX)]  # a page of a list, from 1
# Why an export of personal data is made: required (its absence is a 422 saying so, from the
# domain), kept in the audit trail and printed in the export's notice.
ExportReason = Annotated[
    str | None,
    Query(
        max_length=300,
        description="required: what the export is for (kept in the audit trail, printed in "
        "the file's first line)",
    ),
]


def id_or_none(value: str | None) -> int | None:
    """A row id typed in a form or a filter, or None when it is not one (blank, text, too big)."""
    value = (value or "").strip()
    if len(value) <= 10 and value.isascii() and value.isdigit() and 1 <= int(value) <= INT32_MAX:
        return int(value)
    return None


LIMIT_KEY = "x-max-body-bytes"


def upload_limit(file_bytes: int) -> dict[str, int]:
    """The `openapi_extra` of a route that takes one file of at most `file_bytes`."""
    return {LIMIT_KEY: file_bytes + MULTIPART_OVERHEAD}


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request is too large (at most {limit} bytes).")


class BodyLimit:
    """Pure ASGI middleware: a request body over its route's limit raises BodyTooLarge (413)
    as the app reads it, so the app's handler answers it in the one error shape."""

    def __init__(self, app: ASGIApp, default: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0
        limit: int | None = None

        async def limited() -> Message:
            nonlocal received, limit
            if limit is None:  # first read: the route is known by now
                extra = getattr(scope.get("route"), "openapi_extra", None) or {}
                limit = extra.get(LIMIT_KEY, self.default)
                declared = _content_length(scope)
                if declared is not None and declared > limit:
                    raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _nul_paths(value: Any, path: tuple) -> list[tuple]:
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, (*path, i))]
    if isinstance(value, dict):
        found = []
        for k, v in value.items():
            if "\x00" in k:
                found.append((*path, k.replace("\x00", "\\u0000")))
            found.extend(_nul_paths(v, (*path, k)))
        return found
    return []


def _error(loc: tuple) -> dict:
    return {"type": "nul_character", "loc": loc, "msg": "NUL characters are not allowed"}


async def refuse_nul(request: Request) -> None:
    """A dependency of every route: 422 when the path, query, JSON body or form has a NUL."""
    errors = [_error(("path", k)) for k, v in request.path_params.items() if "\x00" in str(v)]
    if "\x00" in request.url.path and not errors:
        errors.append(_error(("path",)))
    errors += [
        _error(("query", k.replace("\x00", "\\u0000")))
        for k, v in request.query_params.multi_items()
        if "\x00" in k or "\x00" in v
    ]
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # parsed once: FastAPI's own parse is cached on the request
        errors += [
            _error(("body", k.replace("\x00", "\\u0000")))
            for k, v in form.multi_items()
            if "\x00" in k or (isinstance(v, str) and "\x00" in v)
        ]
    elif "json" in content_type:
        body = await request.body()
        if b"\\u0000" in body or b"\x00" in body:  # cheap test first; a NUL is escaped in JSON
            try:
                parsed = await request.json()
            except ValueError:  # not JSON: FastAPI's own parse answers that
                parsed = None
            errors += [_error(("body", *p)) for p in _nul_paths(parsed, ())]
    if errors:
        raise RequestValidationError(errors)


def form_day(value: str | None, field: str) -> date | None:
    """A date from a form or query field; empty means none (422 naming the field when
    malformed)."""
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise Invalid(
            N_("Give the date “{field}” as YYYY-MM-DD."), params={"field": field}
        ) from exc
