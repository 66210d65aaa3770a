"""An unexpected error: the one error shape, nothing written, and the keep-alive connection still
usable — against a real uvicorn server, with a route that exists only in this test's app."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from sqlmodel import Session, select

from app.core.config import Settings
from app.main import create_app
from models.schools import School
from routes.http.session import SessionDep
from tests.conftest import free_port


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, object]]:
    """The real app plus one route that writes a school and then fails, served by uvicorn."""
    app = create_app(settings)

    @app.post("/api/v1/test-only/write-then-fail")
    def write_then_fail(session: SessionDep) -> None:
        session.add(School(name_zh="半途", name_en="Half-way"))
        session.flush()  # the row is written in the transaction ...
        raise RuntimeError("boom")  # ... which an unexpected error must roll back

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        srv.should_exit = True
        thread.join(10)
        app.state.engine.dispose()


def test_an_unexpected_error_keeps_the_connection_and_writes_nothing(server):  # noqa: ANN001
    url, app = server
    with httpx.Client(base_url=url, timeout=10) as client:  # one keep-alive connection
        for _ in range(3):
            r = client.post("/api/v1/test-only/write-then-fail")
            assert r.status_code == 500
            assert r.json()["error"]["code"] == "internal_error"
            # Either the connection stays open, or the server says it closes it.
            assert r.headers.get("connection", "keep-alive").lower() != "close"
            good = client.get("/healthz")  # on the same connection: no "connection reset"
            assert good.status_code == 200, good.text
    with Session(app.state.engine) as s:
        assert s.exec(select(School)).all() == []


def test_the_next_request_on_the_connection_is_answered(server):  # noqa: ANN001
    """Two requests sent back to back on one socket: before, the server closed the connection
    after the 500 (no `Connection: close`), and the second request was never answered."""
    url, _ = server
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST /api/v1/test-only/write-then-fail HTTP/1.1\r\nHost: t\r\n"
            b"Content-Length: 0\r\n\r\n"
            b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
        )
        data = b""
        while b'"status":"ok"' not in data:
            chunk = sock.recv(65536)
            if not chunk:  # the server closed the connection
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 500 ")
    assert b"HTTP/1.1 200 OK" in data, data.decode(errors="replace")
