"""Helpers for the label-printing tests: claims to print, and decoding a printed label's QR."""

from __future__ import annotations

import subprocess
from pathlib import Path

import zxingcpp
from PIL import Image
from sqlmodel import Session

import labels
from models.claims import Claim
from tests.pickup import factories as pf

DPI = 300


def claims(session: Session, w: pf.World, n: int, **kw) -> list[Claim]:
    """`n` allocated claims with kits reserved at the world's point."""
    return [pf.claim(session, w, name_latin=f"Student {i:04d}", **kw) for i in range(n)]


def first_page(pdf: bytes, tmp_path: Path, name: str = "pdfpage") -> Image.Image:
    """The first page of a PDF rasterised at 300 dpi (greyscale) by pdftoppm."""
    src = tmp_path / f"{name}.pdf"
    src.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(DPI),
            "-gray",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            str(src),
            str(tmp_path / name),
        ],  # fmt: skip
        check=True,
    )
    (png,) = sorted(tmp_path.glob(f"{name}-*.png"))
    return Image.open(png).convert("L")


def decode_cell(page: Image.Image, format_id: str, position: int) -> str | None:
    """The QR text of the label at `position`, cropped by the sheet geometry."""
    fmt = labels.FORMATS[format_id]
    r = labels.cell_rect(fmt, position)
    s = DPI / 72
    box = (
        round(r.x * s),
        round((fmt.page_h - r.y - r.h) * s),
        round((r.x + r.w) * s),
        round((fmt.page_h - r.y) * s),
    )
    found = zxingcpp.read_barcodes(page.crop(box), formats=zxingcpp.BarcodeFormat.QRCode)
    return found[0].text if found else None


def first_label_token(pdf: bytes, tmp_path: Path, format_id: str, position: int = 1) -> str | None:
    """Decode the QR of one label on the first sheet of a PDF."""
    return decode_cell(first_page(pdf, tmp_path), format_id, position)
