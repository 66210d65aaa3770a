"""Thin routers: parse, call a service, shape the response."""

from fastapi import APIRouter, Depends

from routes.api import auth as api_auth
from routes.api import campaigns as api_campaigns
from routes.api import claims as api_claims
from routes.api import dashboard as api_dashboard
from routes.api import health
from routes.api import inventory as api_inventory
from routes.api import metrics as api_metrics
from routes.api import personal_data as api_personal_data
from routes.api import pickup as api_pickup
from routes.api import printing as api_printing
from routes.api import privacy as api_privacy
from routes.api import runs as api_runs
from routes.api import schools as api_schools
from routes.http.deps import check_csrf
from routes.pages import api_docs, home, student
from routes.pages import auth as page_auth
from routes.pages import claims as page_claims
from routes.pages import dashboard as page_dashboard
from routes.pages import inventory as page_inventory
from routes.pages import personal_data as page_personal_data
from routes.pages import pickup as page_pickup
from routes.pages import printing as page_printing
from routes.pages import privacy as page_privacy
from routes.pages import runs as page_runs
from routes.pages import schools as page_schools

# Routes are matched in order, each include adding a level, and FastAPI tries every candidate
# before the one that matches: the busiest endpoints (scans, claims, the student form) come
# first (measured with py-spy under bench/scans.py: matching was 15% of a scan's server CPU).
api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(api_pickup.router, prefix="/api/v1")
api_router.include_router(api_claims.router, prefix="/api/v1")
api_router.include_router(api_auth.router, prefix="/api/v1")
api_router.include_router(api_inventory.router, prefix="/api/v1")
api_router.include_router(api_campaigns.router, prefix="/api/v1")
api_router.include_router(api_schools.router, prefix="/api/v1")
api_router.include_router(api_schools.public_router, prefix="/api/v1")
api_router.include_router(api_runs.router, prefix="/api/v1")
api_router.include_router(api_printing.router, prefix="/api/v1")
api_router.include_router(api_dashboard.router, prefix="/api/v1")
api_router.include_router(api_privacy.router, prefix="/api/v1")
api_router.include_router(api_personal_data.router, prefix="/api/v1")
api_router.include_router(api_metrics.router)  # /metrics: the monitoring server

pages_router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
pages_router.include_router(student.router)
pages_router.include_router(page_auth.router)
pages_router.include_router(home.router)
pages_router.include_router(page_inventory.router)
pages_router.include_router(page_claims.router)
pages_router.include_router(page_schools.router)
pages_router.include_router(page_pickup.router)
pages_router.include_router(page_runs.router)
pages_router.include_router(page_printing.router)
pages_router.include_router(page_dashboard.router)
pages_router.include_router(page_privacy.router)
pages_router.include_router(page_personal_data.router)
pages_router.include_router(api_docs.router)
