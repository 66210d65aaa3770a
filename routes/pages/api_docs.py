"""The interactive API documentation (Swagger UI), served with its assets from our own origin."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from routes.http.web import render

router = APIRouter()


@router.get("/docs")
def api_docs(request: Request) -> Response:
    """Swagger UI over /openapi.json (npm swagger-ui-dist, no CDN, no inline script)."""
    return render(request, "docs/swagger.html", {"vendor_ok": request.app.state.vendor_ok})
