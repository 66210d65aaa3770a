"""Security headers on every answer: CSP without inline script or style, no framing, no
sniffing, same-origin referrers (none from token pages), and no-store on personal data."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from tests import factories as f
from tests.dashboard.factories import small_campaign


def _directives(csp: str) -> dict[str, str]:
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in (x.strip() for x in csp.split(";"))}


@pytest.fixture
def small(client, settings):  # noqa: ANN001, ANN201
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        return small_campaign(s, settings)


def _check_page_headers(r, *, referrer: str = "same-origin") -> None:  # noqa: ANN001
    csp = _directives(r.headers["content-security-policy"])
    assert csp["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert csp["style-src"] == "'self'"
    # the map's tile server (KITRUN_TILE_URL, OpenStreetMap by default) may serve images
    assert csp["img-src"] == "'self' data: https://tile.openstreetmap.org"
    assert csp["connect-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == referrer
    assert "no-store" in r.headers["cache-control"]


def test_pages_and_api_answers_carry_the_headers(client, small):
    claim = small.claims["b3"]
    _check_page_headers(client.get("/login"))
    _check_page_headers(client.get(f"/claim/{small.campaign.public_id}"))
    _check_page_headers(client.get(f"/s/{claim.token}"), referrer="no-referrer")
    _check_page_headers(client.get(f"/api/v1/claims/{claim.token}"))
    _check_page_headers(client.get("/api/v1/claims/not-a-token"))  # errors too (404)
    _check_page_headers(client.get("/api/v1/claims?limit=x"))  # 401
    headers = f.api_headers(client, "dip2")
    for url in ("/api/v1/claims", "/api/v1/claims.csv?reason=x", "/api/v1/runs", "/api/v1/scans"):
        r = client.get(url, headers=headers)
        assert r.status_code == 200, (url, r.text)
        _check_page_headers(r)
    f.login_page(client, "dip3")
    for url in ("/admin", "/admin/claims", "/admin/dashboard", f"/admin/claims/{claim.id}"):
        r = client.get(url)
        assert r.status_code == 200, url
        _check_page_headers(r)


def test_token_pages_send_no_referrer_even_when_refusing(client, small):
    claim = small.claims["a1"]  # handed over: it can no longer be cancelled
    client.get(f"/s/{claim.token}")
    r = client.post(f"/s/{claim.token}/cancel", data={"csrf_token": client.cookies["kitrun_csrf"]})
    assert r.status_code == 409
    _check_page_headers(r, referrer="no-referrer")


def test_static_files_may_be_cached_and_the_school_search_is_public(client):
    r = client.get("/static/css/app.css")
    assert r.status_code == 200 and "no-store" not in r.headers.get("cache-control", "")
    assert r.headers["x-content-type-options"] == "nosniff"
    r = client.get("/api/v1/public/schools?q=x")
    assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=60"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def test_no_page_has_inline_script_style_or_handlers(client, small):
    """What the CSP would block: a `<script>` with code, `style=` attributes, `onclick=`…"""
    claim = small.claims["b3"]
    pages = [f"/claim/{small.campaign.public_id}", f"/s/{claim.token}", "/login"]
    f.login_page(client, "dip4")
    pages += [
        "/admin",
        f"/admin/dashboard?campaign={small.campaign.id}",
        "/admin/campaigns",
        "/admin/claims",
        f"/admin/claims/{claim.id}",
        "/admin/slots",
        "/admin/stock",
        "/admin/items",
        "/admin/locations",
        "/admin/schools",
        f"/admin/schools/{small.roster_school.id}",
        "/admin/pickup",
        f"/admin/pickup/claims/{small.claims['a1'].id}",
        "/admin/audit",
        "/admin/runs",
        "/admin/labels",
        "/admin/labels?format=thermal-4x6",
    ]
    problems = []
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        for pattern, what in ((INLINE_SCRIPT, "inline script"), (HANDLER, "event handler")):
            problems += [f"{url}: {what} {m.group(0)[:80]}" for m in pattern.finditer(r.text)]
        problems += [f"{url}: style attribute" for _ in re.finditer(r"\sstyle=", r.text)]
        problems += [f"{url}: <style> element" for _ in re.finditer(r"<style[\s>]", r.text)]
    assert problems == []


def test_img_src_follows_the_tile_setting():
    from app.core.config import Settings
    from routes.http.headers import csp

    assert "img-src 'self' data:;" in csp(Settings(tile_url="").tile_origin)
    origin = Settings(tile_url="http://127.0.0.1:8099/t/{z}/{x}/{y}.png").tile_origin
    assert "img-src 'self' data: http://127.0.0.1:8099;" in csp(origin)
