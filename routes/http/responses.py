"""Responses the API and the pages both give."""

from fastapi import Response
from fastapi.responses import StreamingResponse

from app.core.files import FileInfo, FileStore


def pdf_response(pdf: bytes, filename: str, count: int | None = None) -> Response:
    """A PDF as an attachment (with the label count when known)."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if count is not None:
        headers["X-Label-Count"] = str(count)
    return Response(pdf, media_type="application/pdf", headers=headers)


def csv_response(body: str | bytes, filename: str) -> Response:
    """A CSV export as an attachment (the body UTF-8 with BOM, so Excel opens it)."""
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def stored_file_response(store: FileStore, info: FileInfo) -> StreamingResponse:
    """A file of the shared store as an attachment, streamed chunk by chunk from the database
    (store: FileStore(engine), so no request session is held while the client downloads)."""
    headers = {
        "Content-Disposition": f'attachment; filename="{info.name}"',
        "Content-Length": str(info.size),
    }
    return StreamingResponse(store.stream(info.key), media_type=info.media_type, headers=headers)
