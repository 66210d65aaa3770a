"""Responses the API and the pages both give."""

from fastapi import Response


def pdf_response(pdf: bytes, filename: str, count: int | None = None) -> Response:
    """A PDF as an attachment (with the label count when known)."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if count is not None:
        headers["X-Label-Count"] = str(count)
    return Response(pdf, media_type="application/pdf", headers=headers)
