"""Route sheets of a planned run: a real PDF whose QR codes decode to the stops' tokens."""

from __future__ import annotations

import subprocess
from pathlib import Path

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


def _sheet_text(client, headers, run_id, tmp_path, lang: str) -> str:  # noqa: ANN001
    r = client.get(f"/api/v1/runs/{run_id}/route-sheet.pdf?lang={lang}", headers=headers)
    assert r.status_code == 200, r.text
    pdf = tmp_path / f"sheet-{lang}.pdf"
    pdf.write_bytes(r.content)
    if Path("/tmp/shots17").is_dir():
        subprocess.run(
            ["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "1", str(pdf),
             f"/tmp/shots17/route-sheet-{lang}"],
            check=True,
        )  # fmt: skip
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_route_sheet_in_the_readers_language_with_a_phone_per_stop(client, tmp_path) -> None:  # noqa: ANN001
    headers, setup, claims = _setup(client, 3)
    run_id = _run(client, headers, setup)
    _vehicle(client, headers, run_id)
    ids = [c.id for c in claims]
    client.post(f"/api/v1/runs/{run_id}/claims", json={"claim_ids": ids}, headers=headers)
    assert client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers).status_code == 200
    zh = "".join(_sheet_text(client, headers, run_id, tmp_path, "zh_CN").split())
    en = "".join(_sheet_text(client, headers, run_id, tmp_path, "en").split())
    chinese = ("日期", "司机", "车辆", "到达", "地址")
    english = ("Date", "Driver", "Vehicle", "Arrival", "Address")
    assert all(w in zh for w in chinese) and not any(w in zh for w in english), zh
    assert all(w in en for w in english) and not any(w in en for w in chinese), en
    depot = setup["depot"]
    depot_zh = "".join(depot.name_zh.split())
    assert depot_zh in zh and depot_zh not in en and depot.name_en in en
    phone = "".join(claims[0].phone.split())
    for text in (zh, en):  # every stop's phone, for the driver to call
        assert text.count(phone) == len(claims), text
