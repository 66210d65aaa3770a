"""A local map tile server (the OpenStreetMap URL scheme, one plain tile for every address), for
the pages that draw a Leaflet map: a browser test may reach only loopback."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

from tests.conftest import free_port


def _tile() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (236, 240, 232)).save(out, "PNG")
    return out.getvalue()


TILE = _tile()


class TileServer:
    """Serves `TILE` at `url` + /{z}/{x}/{y}.png and counts what it served, until `close()`."""

    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                owner.served += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(TILE)))
                self.end_headers()
                self.wfile.write(TILE)

            def log_message(self, *args: object) -> None:
                pass

        self.served = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
