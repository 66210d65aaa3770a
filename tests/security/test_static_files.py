"""Static files (routes/http/static.py): versioned URLs cached for a year, gzip, ETag, no cookie."""

from __future__ import annotations

import gzip
import re

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
        r = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
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
