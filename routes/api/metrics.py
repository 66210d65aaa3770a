"""Prometheus metrics (app/core/metrics.py), for the monitoring server only."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from app.core import metrics

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
def scrape(request: Request) -> Response:
    """The metrics, to an allowed address or the metrics token; to anyone else no such page
    (404, as for any address that does not exist)."""
    app = request.app
    client = request.client.host if request.client else None
    if not metrics.allowed(app.state.settings, client, request.headers.get("authorization")):
        raise HTTPException(status_code=404)
    body = metrics.exposition(app.state.engine, app.state.settings)
    return Response(body, media_type=metrics.CONTENT_TYPE)
