"""Observability: /metrics (aggregated over `kitrun serve`'s workers, for allowed callers only),
request ids on answers, error bodies, pages and log lines, JSON logs without secrets."""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core import logs
from app.core.config import Settings
from app.core.db import make_engine
from app.main import create_app
from tests import factories as f
from tests.conftest import LiveServer

SCANS = 12
CLAIMS = 6


def _sample(scrape: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when it is absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in scrape.splitlines():
        if line.startswith("#"):
            continue
        m = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if not m or m.group(1) != name:
            continue
        got = ",".join(sorted((m.group(2) or "").split(","))) if m.group(2) else ""
        if got == want:
            return float(m.group(3))
    return 0.0


def _total(scrape: str, name: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in scrape.splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    )


# ---------------------------------------------------------------- through `kitrun serve`


def test_metrics_and_json_logs_through_two_workers(settings: Settings) -> None:
    """N claims and N scans, each on a new connection (the kernel spreads them over both
    workers): the scrape adds up both workers' counts, names routes by template and carries no
    token; every log line is one JSON object with the request id, and no token is logged."""
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        setup = f.campaign_setup(s, kits=5)
        f.user(s, "dip", "diplomat")
    engine.dispose()
    server = LiveServer(settings, env={"KITRUN_LOG_FORMAT": "json", "KITRUN_LOG_LEVEL": "INFO"})
    try:
        url = server.url
        public_id = setup["campaign"].public_id
        body = f.claim_in(setup).model_dump(mode="json")
        claims = [httpx.post(f"{url}/api/v1/campaigns/{public_id}/claims", json=body)]
        for _ in range(CLAIMS - 1):  # the same student again: refused, counted by its code
            claims.append(httpx.post(f"{url}/api/v1/campaigns/{public_id}/claims", json=body))
        assert claims[0].status_code == 201, claims[0].text
        assert all(r.status_code == 409 for r in claims[1:]), [r.text for r in claims[1:]]
        first = claims[0].json()
        token = first["token"]
        refusal = claims[1].json()["error"]["code"]

        r = httpx.post(f"{url}/api/v1/auth/token", json={"username": "dip", "password": f.PASSWORD})
        bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}
        scans = [
            httpx.post(
                f"{url}/api/v1/scans",
                headers=bearer,
                json={
                    "code": token,
                    "point_id": setup["point"].id,
                    "nonce": str(uuid.uuid4()),
                    "scanned_at": datetime.now(UTC).isoformat(),
                },
            )
            for _ in range(SCANS)
        ]
        assert [r.status_code for r in scans] == [200] * SCANS, [r.text for r in scans]
        results = [r.json()["result"] for r in scans]
        assert results.count("ok") == 1, results
        status_page = httpx.get(f"{url}/s/{token}")
        assert status_page.status_code == 200
        page_id = status_page.headers["x-request-id"]

        scrape = httpx.get(f"{url}/metrics")
        assert scrape.status_code == 200, scrape.text
        text = scrape.text
    finally:
        server.stop()

    # both workers counted (each keeps its own files), and the scrape adds them up
    files = list((settings.data_dir / "metrics").glob("*.db"))
    pids = {p.stem.rsplit("_", 1)[1] for p in files}
    assert len(pids) == 2, sorted(p.name for p in files)
    assert _sample(text, "kitrun_scans_total", result="ok") == 1
    assert _sample(text, "kitrun_scans_total", result="already_handed_over") == SCANS - 1
    assert _total(text, "kitrun_scans_total") == SCANS
    assert _sample(text, "kitrun_claims_total", outcome=first["status"]) == 1
    assert _sample(text, "kitrun_claims_total", outcome=refusal) == CLAIMS - 1
    scans_route = {"method": "POST", "route": "/api/v1/scans", "status": "2xx"}
    assert _sample(text, "kitrun_http_request_duration_seconds_count", **scans_route) == SCANS
    page_route = {"method": "GET", "route": "/s/{token}", "status": "2xx"}
    assert _sample(text, "kitrun_http_request_duration_seconds_count", **page_route) == 1
    assert _sample(text, "kitrun_print_jobs", status="pending") == 0
    assert _sample(text, "kitrun_metrics_database_up") == 1
    assert token not in text and first["short_code"] not in text

    log_text = (settings.data_dir / f"server-{server.port}.log").read_text()
    lines = [json.loads(line) for line in log_text.splitlines() if line.strip()]
    assert lines, "the server logged nothing"
    assert all(
        {"time", "level", "logger", "message", "request_id"} <= line.keys() for line in lines
    )
    page_lines = [line for line in lines if line["request_id"] == page_id]
    assert [line["message"].split()[:3] for line in page_lines] == [["GET", "/s/{token}", "200"]]
    assert token not in log_text and first["short_code"] not in log_text


# ---------------------------------------------------------------- one process


def _app(settings: Settings, **overrides: str):  # noqa: ANN202
    fresh = Settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        secret_key="test-secret",
        **overrides,
    )
    return create_app(fresh)


def test_metrics_only_for_allowed_addresses_or_the_token(settings: Settings) -> None:
    app = _app(settings, metrics_allow="10.0.0.0/8, ::1", metrics_token="scrape-secret-1")
    try:
        with TestClient(app, client=("192.0.2.7", 5000)) as outside:
            refused = outside.get("/metrics")
            assert refused.status_code == 404
            assert "kitrun_" not in refused.text
            assert (
                outside.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code
                == 404
            )
            with_token = outside.get(
                "/metrics", headers={"Authorization": "Bearer scrape-secret-1"}
            )
            assert with_token.status_code == 200
            assert "kitrun_http_request_duration_seconds" in with_token.text
        with TestClient(app, client=("10.1.2.3", 5000)) as inside:
            assert inside.get("/metrics").status_code == 200
        with TestClient(app, client=("127.0.0.1", 5000)) as loopback:  # not in this list
            assert loopback.get("/metrics").status_code == 404
    finally:
        app.state.engine.dispose()
    assert "/metrics" not in app.openapi()["paths"]


def test_metrics_see_the_client_behind_a_trusted_proxy(settings: Settings) -> None:
    app = _app(settings, trusted_proxies="10.9.9.9")
    try:
        with TestClient(app, client=("10.9.9.9", 5000)) as proxy:
            # the default list is loopback: the proxy's own address is not the client
            assert proxy.get("/metrics").status_code == 404
            local = proxy.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
            assert local.status_code == 200
            far = proxy.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"})
            assert far.status_code == 404
            # the proxy's request id is kept when it looks like one, replaced otherwise
            kept = proxy.get("/healthz", headers={"X-Request-ID": "lb-1234:abcd"})
            assert kept.headers["x-request-id"] == "lb-1234:abcd"
            odd = proxy.get("/healthz", headers={"X-Request-ID": "<script>"})
            assert re.fullmatch(r"[0-9a-f]{16}", odd.headers["x-request-id"])
        with TestClient(app, client=("192.0.2.1", 5000)) as direct:
            # from anyone else an X-Forwarded-For or an X-Request-ID is not believed
            r = direct.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
            assert r.status_code == 404
            r = direct.get("/healthz", headers={"X-Request-ID": "chosen-by-client"})
            assert r.headers["x-request-id"] != "chosen-by-client"
    finally:
        app.state.engine.dispose()


def test_request_id_on_answers_error_bodies_pages_and_log_lines(app) -> None:  # noqa: ANN001
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    logs.style([handler], "json")
    logger = logging.getLogger("kitrun.http")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with TestClient(app) as client:
            ok = client.get("/healthz")
            api_404 = client.get("/api/v1/claims/no-such-token-000")
            page_404 = client.get("/s/no-such-token-000?lang=en")
            zh_404 = client.get("/s/no-such-token-001?lang=zh_CN")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)

    ids = [r.headers["x-request-id"] for r in (ok, api_404, page_404, zh_404)]
    assert len(set(ids)) == 4 and all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    assert api_404.status_code == 404
    assert api_404.json()["error"]["request_id"] == ids[1]
    assert page_404.status_code == 404
    assert f"Reference: {ids[2]}" in page_404.text
    assert f"参考编号：{ids[3]}" in zh_404.text and zh_404.text.count(ids[3]) == 1
    lines = [json.loads(r) for r in records]
    by_id = {line["request_id"]: line for line in lines}
    assert set(ids) <= by_id.keys(), lines
    assert by_id[ids[1]]["message"].startswith("GET /api/v1/claims/{token} 404")
    assert by_id[ids[1]]["logger"] == "kitrun.http" and by_id[ids[1]]["level"] == "INFO"
    assert not any("no-such-token" in r for r in records)


def test_log_line_outside_a_request_and_in_text_format() -> None:
    record = logging.LogRecord(
        "kitrun.test", logging.WARNING, __file__, 1, "hello %s", ("x",), None
    )
    logs.RequestIdFilter().filter(record)
    line = json.loads(logs.formatter("json").format(record))
    assert line["message"] == "hello x" and line["request_id"] == "-"
    token = logs.request_id.set("abc123")
    try:
        logs.RequestIdFilter().filter(record)
        assert "[abc123] hello x" in logs.formatter("text").format(record)
    finally:
        logs.request_id.reset(token)
    with pytest.raises(ValueError):
        logs.formatter("xml")
