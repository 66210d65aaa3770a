"""Static files (routes/http/static.py): versioned URLs cached for a year, brotli or gzip, ETag,
no cookie."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest

from app.main import NODE_MODULES, STATIC_DIR

IMMUTABLE = "public, max-age=31536000, immutable"
VERSIONED = re.compile(r'(?:src|href)="(/static/~[0-9a-f]{16}/[^"]+)"')


@pytest.fixture
def scanner_page(client):  # noqa: ANN001, ANN201
    from tests.pickup.test_pickup_api import login, setup

    w, _ = setup(client)
    login(client, "vol")
    return client.get(f"/scan/{w.point.id}")


def test_pages_link_versioned_urls_served_immutable_and_gzipped(client, scanner_page):  # noqa: ANN001
    urls = VERSIONED.findall(scanner_page.text)
    assert any(u.endswith("/css/app.css") for u in urls)
    assert any(u.endswith("/js/scanner.js") for u in urls)
    assert "/static/js/scanner.js" not in scanner_page.text  # no unversioned reference left
    client.cookies.clear()
    for url in urls:
        r = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, url
        assert r.headers["cache-control"] == IMMUTABLE
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["vary"] == "Accept-Encoding"
        assert "set-cookie" not in r.headers
    css = client.get(
        next(u for u in urls if u.endswith(".css")), headers={"Accept-Encoding": "gzip"}
    )
    # httpx decodes the body; the bytes on the wire are the smaller gzip
    assert css.text == (STATIC_DIR / "css" / "app.css").read_text()
    assert (
        int(css.headers["content-length"]) < len((STATIC_DIR / "css" / "app.css").read_bytes()) / 2
    )


def test_without_accept_encoding_the_file_is_sent_as_is(client):  # noqa: ANN001
    r = client.get("/static/css/app.css", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and "content-encoding" not in r.headers
    assert r.content == (STATIC_DIR / "css" / "app.css").read_bytes()
    assert r.headers["content-type"].startswith("text/css")
    assert r.headers["vary"] == "Accept-Encoding"
    # an unversioned or stale URL is revalidated, never kept a year
    assert r.headers["cache-control"] == "no-cache"
    stale = client.get("/static/~0000000000000000/css/app.css")
    assert stale.status_code == 200 and stale.headers["cache-control"] == "no-cache"
    assert (
        client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip;q=0"}).headers.get(
            "content-encoding"
        )
        is None
    )


def test_etag_answers_304(client):  # noqa: ANN001
    first = client.get("/static/js/scanner.js", headers={"Accept-Encoding": "gzip"})
    etag = first.headers["etag"]
    again = client.get(
        "/static/js/scanner.js", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and "set-cookie" not in again.headers
    plain = client.get(
        "/static/js/scanner.js", headers={"Accept-Encoding": "identity", "If-None-Match": etag}
    )
    assert plain.status_code == 200  # another representation, another tag


def test_no_cookie_even_for_a_new_visitor_or_a_language(client):  # noqa: ANN001
    client.cookies.clear()
    r = client.get("/static/css/app.css?lang=en")
    assert r.status_code == 200 and "set-cookie" not in r.headers
    assert client.get("/static/nope.css").status_code == 404
    assert client.get("/static/../app/main.py").status_code == 404
    assert client.get("/static/~x/../../app/main.py").status_code == 404
    assert client.post("/static/css/app.css").status_code == 405


def test_the_decoder_is_versioned_by_its_package_and_gzipped(client, app):  # noqa: ANN001
    if not (NODE_MODULES / "zxing-wasm" / "dist").is_dir():
        pytest.skip("npm packages not installed (npm ci)")
    assets = app.state.assets
    wasm = assets.url("vendor/zxing-wasm/reader/zxing_reader.wasm")
    module = assets.url("vendor/barcode-detector/es/ponyfill.js")
    # a module's relative imports resolve under the same version: versioned too
    sibling = module.rsplit("/", 1)[0] + "/zxing-exported.js"
    for url in (wasm, module, sibling):
        r = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
        assert r.status_code == 200 and r.headers["cache-control"] == IMMUTABLE, url
        # (a file under 1 KB is sent as is: gzip would not pay for itself)
        assert r.headers.get("content-encoding") == ("gzip" if url != module else None)
    r = client.get(wasm, headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-type"] == "application/wasm"
    raw = (NODE_MODULES / "zxing-wasm" / "dist" / "reader" / "zxing_reader.wasm").read_bytes()
    assert r.content == raw
    assert int(r.headers["content-length"]) < 0.6 * len(raw)
    assert (
        gzip.decompress(assets.file("vendor/zxing-wasm/reader/zxing_reader.wasm").gz.read_bytes())
        == raw
    )


WASM = "vendor/zxing-wasm/reader/zxing_reader.wasm"
CHROMIUM_ACCEPTS = "gzip, deflate, br, zstd"  # what Chromium sends, over plain http too


@pytest.fixture(scope="session")
def compressed_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory of our own: the first test compresses, the second finds the copies."""
    return tmp_path_factory.mktemp("static-cache")


def _wire(client, url: str, accept: str) -> tuple[dict, bytes]:  # noqa: ANN001
    """The headers and the body as sent (not decoded by the client)."""
    with client.stream("GET", url, headers={"Accept-Encoding": accept}) as r:
        assert r.status_code == 200, url
        return dict(r.headers), b"".join(r.iter_raw())


def test_the_decoder_is_sent_in_brotli_to_who_accepts_it_else_gzip(client, app, compressed_cache):  # noqa: ANN001
    assets = app.state.assets
    assets.cache_dir = compressed_cache  # (nothing looked up yet: the copies are made there)
    raw = (NODE_MODULES / "zxing-wasm" / "dist" / "reader" / "zxing_reader.wasm").read_bytes()
    url = assets.url(WASM)  # the page's link starts the brotli copy, in the background
    assert assets.brotli(assets.file(WASM), wait=True) is not None
    headers, body = _wire(client, url, CHROMIUM_ACCEPTS)
    assert headers["content-encoding"] == "br"
    assert headers["content-type"] == "application/wasm"
    assert headers["cache-control"] == IMMUTABLE and headers["vary"] == "Accept-Encoding"
    assert int(headers["content-length"]) == len(body) < 0.35 * len(raw)
    assert brotli.decompress(body) == raw
    etag = headers["etag"]
    assert (
        client.get(url, headers={"Accept-Encoding": "br", "If-None-Match": etag}).status_code == 304
    )

    gz_headers, gz_body = _wire(client, url, "gzip, deflate")
    assert gz_headers["content-encoding"] == "gzip" and gz_headers["etag"] != etag
    assert gzip.decompress(gz_body) == raw
    assert len(body) < len(gz_body)
    # brotli refused, or gzip preferred by the client: gzip; neither: the file as is
    assert _wire(client, url, "br;q=0, gzip")[0]["content-encoding"] == "gzip"
    assert _wire(client, url, "br;q=0.5, gzip;q=1")[0]["content-encoding"] == "gzip"
    plain_headers, plain = _wire(client, url, "identity")
    assert "content-encoding" not in plain_headers and plain == raw
    # a small script too (its copy made on the spot once asked for)
    module = "vendor/barcode-detector/es/zxing-exported.js"
    assert assets.brotli(assets.file(module), wait=True) is not None
    headers, body = _wire(client, assets.url(module), CHROMIUM_ACCEPTS)
    assert headers["content-encoding"] == "br"
    assert brotli.decompress(body) == assets.file(module).path.read_bytes()
