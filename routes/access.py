"""Who may call each route: the owner rules as data.

Every route of the app has one entry, "METHOD /path" (a mount: "GET /prefix") → `Who`. The
guards that enforce them are the role dependencies in routes/http/deps.py and, for objects, the
domains' own checks (app/pickup/volunteers.require_point, app/runs/drivers.require_vehicle and
require_stop, the run-stop resolver of a scan). tests/security/test_access_matrix.py calls every
route of the app as anonymous, unassigned volunteer, assigned volunteer, driver and diplomat and
checks each answer against this table; a route without an entry fails it. README § Security
shows the table.
"""

from __future__ import annotations

from enum import StrEnum


class Who(StrEnum):
    """Who may call a route. Refusals: 401 (API) or a redirect to /login (pages) without an
    account, 403 for an account whose role or assignment does not cover the object."""

    anyone = "anyone"  # no account: log-in, language, health, docs, static files, claim form
    token = "token"  # whoever holds the claim's unguessable token (the student): it is the key
    staff = "staff"  # any staff account; the answer is about the caller only
    point = "point"  # volunteers assigned to the pickup point, and diplomats
    vehicle = "vehicle"  # the driver assigned to the vehicle (of the stop), and diplomats
    scan = "scan"  # any staff account; a point or stop not theirs is refused in the answer
    diplomat = "diplomat"  # diplomats only
    # the monitoring server: an address in KITRUN_METRICS_ALLOW or the KITRUN_METRICS_TOKEN
    # bearer, whatever the account; to anyone else the route does not exist (404)
    monitor = "monitor"


# Who each route is for. Kept in the order of routes/__init__.py.
RULES: dict[str, Who] = {
    # --------------------------------------------------------- framework and files
    "GET /openapi.json": Who.anyone,
    "GET /docs": Who.anyone,
    "GET /static/vendor/barcode-detector": Who.anyone,
    "GET /static/vendor/zxing-wasm": Who.anyone,
    "GET /static/vendor/swagger-ui": Who.anyone,
    "GET /static": Who.anyone,
    "GET /healthz": Who.anyone,
    "GET /readyz": Who.anyone,
    "GET /metrics": Who.monitor,
    # --------------------------------------------------------- API: pickup
    "POST /api/v1/scans": Who.scan,
    "GET /api/v1/scans": Who.diplomat,
    "GET /api/v1/scans.csv": Who.diplomat,
    "POST /api/v1/claims/{claim_id}/undo-handover": Who.diplomat,
    "GET /api/v1/pickup-points/{point_id}/counters": Who.point,
    "GET /api/v1/volunteers/{user_id}/points": Who.diplomat,
    "PUT /api/v1/volunteers/{user_id}/points": Who.diplomat,
    # --------------------------------------------------------- API: claims
    "POST /api/v1/campaigns/{public_id}/claims": Who.anyone,
    "POST /api/v1/campaigns/{public_id}/claims/find": Who.anyone,
    "GET /api/v1/claims/{token}": Who.token,
    "GET /api/v1/claims": Who.diplomat,
    "GET /api/v1/claims.csv": Who.diplomat,
    "POST /api/v1/claims/decisions": Who.diplomat,
    "GET /api/v1/claims/{claim_id}/personal-data": Who.diplomat,
    "GET /api/v1/claims/{claim_id}/personal-data.pdf": Who.diplomat,
    "DELETE /api/v1/claims/{claim_id}": Who.diplomat,
    "GET /api/v1/schools/{school_id}/roster/{entry_id}/personal-data": Who.diplomat,
    "DELETE /api/v1/schools/{school_id}/roster/{entry_id}": Who.diplomat,
    # --------------------------------------------------------- API: auth
    "POST /api/v1/auth/token": Who.anyone,
    "DELETE /api/v1/auth/token": Who.staff,
    "GET /api/v1/auth/me": Who.staff,
    # --------------------------------------------------------- API: inventory
    "GET /api/v1/items": Who.diplomat,
    "POST /api/v1/items": Who.diplomat,
    "GET /api/v1/items/{item_id}": Who.diplomat,
    "PATCH /api/v1/items/{item_id}": Who.diplomat,
    "PUT /api/v1/items/{item_id}/recipe": Who.diplomat,
    "GET /api/v1/locations": Who.diplomat,
    "POST /api/v1/locations": Who.diplomat,
    "GET /api/v1/locations/{location_id}": Who.diplomat,
    "PATCH /api/v1/locations/{location_id}": Who.diplomat,
    "GET /api/v1/lots": Who.diplomat,
    "POST /api/v1/stock/movements": Who.diplomat,
    "GET /api/v1/stock/movements": Who.diplomat,
    "GET /api/v1/stock/levels": Who.diplomat,
    "GET /api/v1/stock/alerts": Who.diplomat,
    "GET /api/v1/stock/assemblable": Who.diplomat,
    "GET /api/v1/stock/levels.csv": Who.diplomat,
    "GET /api/v1/stock/movements.csv": Who.diplomat,
    # --------------------------------------------------------- API: campaigns, points
    "GET /api/v1/campaigns": Who.diplomat,
    "POST /api/v1/campaigns": Who.diplomat,
    "GET /api/v1/campaigns/{campaign_id}": Who.diplomat,
    "PATCH /api/v1/campaigns/{campaign_id}": Who.diplomat,
    "GET /api/v1/campaigns/{campaign_id}/notices": Who.diplomat,
    "POST /api/v1/campaigns/{campaign_id}/notices": Who.diplomat,
    "GET /api/v1/public/campaigns/{public_id}/notice": Who.anyone,
    "GET /api/v1/pickup-points": Who.diplomat,
    "GET /api/v1/pickup-points/{location_id}/slots": Who.diplomat,
    "POST /api/v1/pickup-points/{location_id}/slots": Who.diplomat,
    # --------------------------------------------------------- API: schools
    "GET /api/v1/schools": Who.diplomat,
    "POST /api/v1/schools": Who.diplomat,
    "POST /api/v1/schools/import": Who.diplomat,
    "GET /api/v1/schools/{school_id}": Who.diplomat,
    "PATCH /api/v1/schools/{school_id}": Who.diplomat,
    "POST /api/v1/schools/{school_id}/roster": Who.diplomat,
    "GET /api/v1/schools/{school_id}/roster": Who.diplomat,
    "GET /api/v1/roster-imports/{import_id}": Who.diplomat,
    "GET /api/v1/public/schools": Who.anyone,
    # --------------------------------------------------------- API: delivery runs
    "GET /api/v1/runs": Who.diplomat,
    "POST /api/v1/runs": Who.diplomat,
    "GET /api/v1/runs/{run_id}": Who.diplomat,
    "POST /api/v1/runs/{run_id}/vehicles": Who.diplomat,
    "PUT /api/v1/runs/{run_id}/vehicles/{vehicle_id}/driver": Who.diplomat,
    "DELETE /api/v1/runs/{run_id}/vehicles/{vehicle_id}": Who.diplomat,
    "POST /api/v1/runs/{run_id}/claims": Who.diplomat,
    "DELETE /api/v1/runs/{run_id}/stops/{stop_id}": Who.diplomat,
    "POST /api/v1/runs/{run_id}/optimize": Who.diplomat,
    "POST /api/v1/runs/{run_id}/stops/{stop_id}/move": Who.diplomat,
    "POST /api/v1/runs/{run_id}/stops/{stop_id}/lock": Who.diplomat,
    "PUT /api/v1/runs/{run_id}/stops/{stop_id}/window": Who.diplomat,
    "POST /api/v1/runs/{run_id}/stops/{stop_id}/pin": Who.diplomat,
    "POST /api/v1/runs/{run_id}/dispatch": Who.diplomat,
    "POST /api/v1/runs/{run_id}/stops/{stop_id}/fail": Who.vehicle,
    "GET /api/v1/runs/{run_id}/route-sheet.pdf": Who.diplomat,
    # --------------------------------------------------------- API: printing, dashboard
    "POST /api/v1/labels": Who.diplomat,
    "GET /api/v1/print-jobs/{job_id}": Who.diplomat,
    "GET /api/v1/print-jobs/{job_id}/file": Who.diplomat,
    "GET /api/v1/labels/calibration.pdf": Who.diplomat,
    "GET /api/v1/dashboard": Who.diplomat,
    "GET /api/v1/reports/daily": Who.diplomat,
    "GET /api/v1/reports/daily.csv": Who.diplomat,
    "GET /api/v1/reports/daily.pdf": Who.diplomat,
    "GET /api/v1/audit": Who.diplomat,
    "GET /api/v1/audit.csv": Who.diplomat,
    "GET /api/v1/privacy/views": Who.diplomat,
    # --------------------------------------------------------- pages: students
    "GET /claim/{public_id}": Who.anyone,
    "POST /claim/{public_id}": Who.anyone,
    "GET /claim/{public_id}/find": Who.anyone,
    "POST /claim/{public_id}/find": Who.anyone,
    "GET /s/{token}": Who.token,
    "GET /s/{token}/qr.png": Who.token,
    "POST /s/{token}/verify": Who.token,
    "POST /s/{token}/resend": Who.token,
    "POST /s/{token}/slot": Who.token,
    "POST /s/{token}/cancel": Who.token,
    # --------------------------------------------------------- pages: log-in, landing pages
    "GET /login": Who.anyone,
    "POST /login": Who.anyone,
    "POST /logout": Who.anyone,
    "GET /lang/{code}": Who.anyone,
    "GET /": Who.anyone,
    "GET /admin": Who.diplomat,
    "GET /volunteer": Who.staff,
    "GET /driver": Who.staff,
    # --------------------------------------------------------- pages: stock
    "GET /admin/stock": Who.diplomat,
    "GET /admin/stock/card": Who.diplomat,
    "GET /admin/stock/{kind}": Who.diplomat,
    "POST /admin/stock/{kind}": Who.diplomat,
    "GET /admin/items": Who.diplomat,
    "POST /admin/items": Who.diplomat,
    "GET /admin/locations": Who.diplomat,
    "POST /admin/locations": Who.diplomat,
    # --------------------------------------------------------- pages: claims, campaigns
    "GET /admin/claims": Who.diplomat,
    "POST /admin/claims/decide": Who.diplomat,
    "GET /admin/claims/{claim_id}": Who.diplomat,
    "GET /admin/claims/{claim_id}/privacy": Who.diplomat,
    "POST /admin/claims/{claim_id}/erase": Who.diplomat,
    "GET /admin/schools/{school_id}/roster/{entry_id}/privacy": Who.diplomat,
    "POST /admin/schools/{school_id}/roster/{entry_id}/erase": Who.diplomat,
    "GET /admin/campaigns": Who.diplomat,
    "POST /admin/campaigns": Who.diplomat,
    "POST /admin/campaigns/{campaign_id}/notice": Who.diplomat,
    "GET /admin/slots": Who.diplomat,
    "POST /admin/slots": Who.diplomat,
    # --------------------------------------------------------- pages: schools
    "GET /admin/schools": Who.diplomat,
    "GET /admin/schools/new": Who.diplomat,
    "POST /admin/schools/new": Who.diplomat,
    "GET /admin/schools/import": Who.diplomat,
    "POST /admin/schools/import": Who.diplomat,
    "GET /admin/schools/{school_id}": Who.diplomat,
    "GET /admin/schools/{school_id}/edit": Who.diplomat,
    "POST /admin/schools/{school_id}/edit": Who.diplomat,
    "POST /admin/schools/{school_id}/roster": Who.diplomat,
    "GET /admin/roster-imports/{import_id}": Who.diplomat,
    "GET /admin/schools/{school_id}/roster": Who.diplomat,
    # --------------------------------------------------------- pages: pickup
    "GET /scan": Who.staff,
    "GET /scan/{point_id}": Who.point,
    "POST /scan/{point_id}": Who.point,
    "POST /scan/{point_id}/photo": Who.point,
    "GET /admin/pickup": Who.diplomat,
    "GET /admin/pickup/volunteers": Who.diplomat,
    "POST /admin/pickup/volunteers": Who.diplomat,
    "GET /admin/pickup/scans": Who.diplomat,
    "GET /admin/pickup/conflicts": Who.diplomat,
    "GET /admin/pickup/claims/{claim_id}": Who.diplomat,
    "POST /admin/pickup/claims/{claim_id}/undo": Who.diplomat,
    # --------------------------------------------------------- pages: delivery runs
    "GET /admin/runs": Who.diplomat,
    "POST /admin/runs": Who.diplomat,
    "GET /admin/runs/{run_id}": Who.diplomat,
    "POST /admin/runs/{run_id}/vehicles": Who.diplomat,
    "POST /admin/runs/{run_id}/vehicles/{vehicle_id}/driver": Who.diplomat,
    "POST /admin/runs/{run_id}/vehicles/{vehicle_id}/delete": Who.diplomat,
    "POST /admin/runs/{run_id}/claims": Who.diplomat,
    "POST /admin/runs/{run_id}/stops/{stop_id}/remove": Who.diplomat,
    "POST /admin/runs/{run_id}/optimize": Who.diplomat,
    "POST /admin/runs/{run_id}/stops/{stop_id}/move": Who.diplomat,
    "POST /admin/runs/{run_id}/stops/{stop_id}/lock": Who.diplomat,
    "POST /admin/runs/{run_id}/stops/{stop_id}/window": Who.diplomat,
    "POST /admin/runs/{run_id}/stops/{stop_id}/pin": Who.diplomat,
    "POST /admin/runs/{run_id}/dispatch": Who.diplomat,
    "GET /admin/runs/{run_id}/route-sheet.pdf": Who.diplomat,
    "GET /driver/runs/{run_id}/{vehicle_id}": Who.vehicle,
    "POST /driver/runs/{run_id}/{vehicle_id}/scan": Who.vehicle,
    "POST /driver/runs/{run_id}/{vehicle_id}/stops/{stop_id}/fail": Who.vehicle,
    # --------------------------------------------------------- pages: printing, dashboard
    "GET /admin/labels": Who.diplomat,
    "POST /admin/labels": Who.diplomat,
    "GET /admin/print-jobs/{job_id}": Who.diplomat,
    "GET /admin/print-jobs/{job_id}/file": Who.diplomat,
    "GET /admin/labels/calibration.pdf": Who.diplomat,
    "GET /admin/dashboard": Who.diplomat,
    "GET /admin/audit": Who.diplomat,
    "GET /admin/privacy/views": Who.diplomat,
}


def rule(method: str, path: str) -> Who | None:
    """The owner rule of a route (None: the route has no entry, which the tests refuse)."""
    return RULES.get(f"{method} {path}")
