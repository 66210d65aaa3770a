"""Domain errors: each carries its HTTP status and a stable code for the error shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def N_(message: str) -> str:  # noqa: N802
    """Mark a message for translation where it is defined; it is translated where shown."""
    return message


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        params: dict[str, Any] | None = None,
        details: Any = None,
        code: str | None = None,
    ) -> None:
        self.template = message
        self.params = params or {}
        self.message = message.format(**self.params) if self.params else message
        super().__init__(self.message)
        self.details = details
        if code:
            self.code = code

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries (Retry-After of a 429)."""
        return {}

    def localized(self, gettext: Callable[[str], str]) -> str:
        """The message in the reader's language (the template is the catalog's msgid)."""
        text = gettext(self.template)
        return text.format(**self.params) if self.params else text


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Invalid(DomainError):
    status_code = 422
    code = "invalid"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class CsrfFailed(Forbidden):
    """A cookie-authenticated write without the page's CSRF token."""

    code = "csrf_failed"


class TooManyRequests(DomainError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}
