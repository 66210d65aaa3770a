"""Liveness and database check."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.core import health
from routes.http.openapi import errors
from routes.http.session import SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz", responses=errors(503))
def healthz(session: SessionDep) -> JSONResponse:
    """200 when the app is up and the database answers, 503 otherwise."""
    dialect = health.ping(session=session)
    if dialect is None:
        return JSONResponse(
            {
                "error": {
                    "code": "db_unavailable",
                    "message": "Database unreachable",
                    "details": None,
                }
            },
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": dialect})
