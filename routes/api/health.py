"""Liveness and database check (/healthz); readiness (/readyz)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.core import faults, health
from app.core.logs import request_id
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


@router.get("/readyz", responses=errors(503))
def readyz(request: Request) -> JSONResponse:
    """200 when this instance may take traffic: the database answers and its schema is at the
    migrations' head; else 503 naming what is not ready (`details`, by check)."""
    problems = health.readiness(engine=request.app.state.engine)
    if problems:
        message = "Not ready: " + "; ".join(f"{k} {v}" for k, v in problems.items())
        return JSONResponse(
            {
                "error": {
                    "code": "not_ready",
                    "message": message,
                    "details": problems,
                    "request_id": request_id.get(),
                }
            },
            status_code=503,
            headers={"Retry-After": str(faults.RETRY_AFTER)},
        )
    return JSONResponse({"status": "ready", "database": "ok", "migrations": "head"})
