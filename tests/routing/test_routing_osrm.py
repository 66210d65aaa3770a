"""OSRMProvider against a real HTTP server speaking the table API, and against a closed port."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from app.routing import GreatCircleProvider, OSRMProvider

POINTS = [(22.30, 114.17), (22.32, 114.20), (22.28, 114.15), (22.40, 114.10), (22.35, 114.25)]


def fake_distance(a, b):
    """Metres between (lon, lat) pairs in the fake world, with a fractional part."""
    return 100_000 * (abs(a[0] - b[0]) + abs(a[1] - b[1])) + 0.4


class TableHandler(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        TableHandler.requests.append(self.path)
        url = urlsplit(self.path)
        mode, _, rest = url.path.lstrip("/").partition("/")
        if mode == "http500":
            return self._send(500, b"internal error", "text/plain")
        if mode == "badcode":
            body = {"code": "InvalidQuery", "message": "Query string malformed"}
            return self._send(400, json.dumps(body).encode())
        assert rest.startswith("table/v1/driving/"), rest
        coords = [tuple(map(float, c.split(","))) for c in rest.split("/")[-1].split(";")]
        query = parse_qs(url.query)
        assert query["annotations"] == ["duration,distance"]
        every = list(range(len(coords)))
        sources = [int(k) for k in query["sources"][0].split(";")] if "sources" in query else every
        dests = (
            [int(k) for k in query["destinations"][0].split(";")]
            if "destinations" in query
            else every
        )
        distances = [[fake_distance(coords[i], coords[j]) for j in dests] for i in sources]
        durations = [[d / 10 for d in row] for row in distances]
        if mode == "nulls":
            durations[0][-1] = distances[0][-1] = None
        body = {"code": "Ok", "durations": durations, "distances": distances}
        self._send(200, json.dumps(body).encode())

    def _send(self, status, payload, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), TableHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def expected(points):
    lonlat = [(lon, lat) for lat, lon in points]
    dist = [[round(fake_distance(a, b)) for b in lonlat] for a in lonlat]
    dur = [[round(fake_distance(a, b) / 10) for b in lonlat] for a in lonlat]
    return dur, dist


def test_osrm_table_parsed(server):
    TableHandler.requests.clear()
    m = OSRMProvider(f"{server}/ok").matrix(POINTS)
    assert (m.durations, m.distances) == expected(POINTS)
    assert m.warnings == []
    assert len(TableHandler.requests) == 1
    # OSRM wants lon,lat.
    assert (
        "/table/v1/driving/114.170000,22.300000;114.200000,22.320000;" in TableHandler.requests[0]
    )


def test_osrm_large_tables_are_fetched_in_blocks(server):
    TableHandler.requests.clear()
    m = OSRMProvider(f"{server}/ok", max_table_size=2).matrix(POINTS)
    assert (m.durations, m.distances) == expected(POINTS)
    assert len(TableHandler.requests) == 9  # 3 source blocks x 3 destination blocks
    assert all("sources=" in r and "destinations=" in r for r in TableHandler.requests)


def test_osrm_unroutable_pairs_use_great_circle(server):
    m = OSRMProvider(f"{server}/nulls").matrix(POINTS)
    gc = GreatCircleProvider().pair(POINTS[0], POINTS[-1])
    assert (m.durations[0][-1], m.distances[0][-1]) == gc
    assert m.distances[0][1] == expected(POINTS)[1][0][1]
    assert len(m.warnings) == 1 and "no route for 1 of 25 pairs" in m.warnings[0]


@pytest.mark.parametrize(("mode", "hint"), [("badcode", "InvalidQuery"), ("http500", "HTTP 500")])
def test_osrm_error_answers_fall_back(server, mode, hint):
    m = OSRMProvider(f"{server}/{mode}").matrix(POINTS)
    assert (m.durations, m.distances) == (
        GreatCircleProvider().matrix(POINTS).durations,
        GreatCircleProvider().matrix(POINTS).distances,
    )
    assert len(m.warnings) == 1 and hint in m.warnings[0] and "great-circle" in m.warnings[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_osrm_unreachable_falls_back_with_warning():
    fallback = GreatCircleProvider(road_factor=1.2, speed_kmh=50)
    m = OSRMProvider(f"http://127.0.0.1:{closed_port()}", timeout=2, fallback=fallback).matrix(
        POINTS
    )
    gc = fallback.matrix(POINTS)
    assert (m.durations, m.distances) == (gc.durations, gc.distances)
    assert len(m.warnings) == 1
    assert "unreachable" in m.warnings[0] and "road factor 1.2, 50 km/h" in m.warnings[0]


def test_osrm_no_points_needs_no_server():
    assert OSRMProvider(f"http://127.0.0.1:{closed_port()}").matrix([]).size == 0
