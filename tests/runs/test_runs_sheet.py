"""Route sheets of a planned run: a real PDF whose QR codes decode to the stops' tokens."""

from __future__ import annotations

import subprocess

import zxingcpp
from PIL import Image

from tests.runs.test_runs_api import _run, _setup, _vehicle


def test_route_sheet_pdf_renders_and_qr_decodes(client, tmp_path) -> None:  # noqa: ANN001
    headers, setup, claims = _setup(client, 3)
    run_id = _run(client, headers, setup)
    _vehicle(client, headers, run_id)
    ids = [c.id for c in claims]
    client.post(f"/api/v1/runs/{run_id}/claims", json={"claim_ids": ids}, headers=headers)
    assert client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers).status_code == 200
    for paper in ("A4", "Letter"):
        r = client.get(f"/api/v1/runs/{run_id}/route-sheet.pdf?paper={paper}", headers=headers)
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert r.content.startswith(b"%PDF")
    r = client.get(f"/api/v1/runs/{run_id}/route-sheet.pdf?paper=A3", headers=headers)
    assert r.status_code == 422
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(client.get(f"/api/v1/runs/{run_id}/route-sheet.pdf", headers=headers).content)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    page = next(tmp_path.glob("p*.png"))
    decoded = {
        b.text
        for b in zxingcpp.read_barcodes(Image.open(page), formats=zxingcpp.BarcodeFormat.QRCode)
    }
    tokens = {c.token for c in claims}
    assert decoded & tokens, decoded
