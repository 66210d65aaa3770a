"""Helpers for the label tests: rasterise PDFs with poppler and crop by geometry."""

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from labels import Rect

MM = 72 / 25.4


def rasterise(pdf: bytes, tmp_path: Path, dpi: int = 300, name: str = "page") -> list[Image.Image]:
    """Every page of `pdf` as a greyscale image at `dpi`, rendered by pdftoppm."""
    src = tmp_path / f"{name}.pdf"
    src.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(src), str(tmp_path / name)], check=True
    )
    return [Image.open(p).convert("L") for p in sorted(tmp_path.glob(f"{name}-*.png"))]


def pixel_box(rect: Rect, page_h: float, dpi: int) -> tuple[int, int, int, int]:
    """PIL crop box (left, top, right, bottom) for a rectangle in PDF points."""
    s = dpi / 72
    return (
        round(rect.x * s),
        round((page_h - rect.y - rect.h) * s),
        round((rect.x + rect.w) * s),
        round((page_h - rect.y) * s),
    )


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "text") -> list[str]:
    """Text of each page as pdftotext extracts it."""
    src = tmp_path / f"{name}.pdf"
    src.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(src), "-"], check=True, capture_output=True, text=True
    ).stdout
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


def pdf_fonts(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    """Rows of `pdffonts` output split in columns (name first, then emb sub uni near the end)."""
    src = tmp_path / "fonts.pdf"
    src.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(src)], check=True, capture_output=True, text=True)
    return [line.split() for line in out.stdout.splitlines()[2:] if line.strip()]


def require_poppler() -> None:
    for tool in ("pdftoppm", "pdftotext", "pdffonts"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} (poppler-utils) is needed by the label tests")


def ink_outside(image: Image.Image, boxes: list[tuple[int, int, int, int]], level: int = 200):
    """Bounding box of pixels darker than `level` outside all `boxes`, or None if there are none."""
    mask = image.point(lambda v: 255 if v < level else 0)
    draw = ImageDraw.Draw(mask)
    for left, top, right, bottom in boxes:
        draw.rectangle((left, top, right - 1, bottom - 1), fill=0)
    return mask.getbbox()


def darkest(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Darkest grey level within `box`."""
    return image.crop(box).getextrema()[0]
