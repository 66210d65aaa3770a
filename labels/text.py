"""Fit text into a width: shrink to a minimum size, wrap over lines, then cut with an ellipsis."""

import re

from reportlab.pdfbase.pdfmetrics import stringWidth

ELLIPSIS = "…"
# CJK ideographs, kana, hangul and full-width forms: a line may break before or after each one.
_CJK = re.compile(r"([\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef])")


def fit_text(
    text: str, font: str, size: float, min_size: float, max_width: float
) -> tuple[str, float]:
    """Return (text, size) drawing `text` within `max_width`: shrunk, then ellipsised."""
    text = " ".join(text.split())
    if not text or max_width <= 0:
        return "", size
    width = stringWidth(text, font, size)
    if width <= max_width:
        return text, size
    fitted = size * max_width / width
    if fitted >= min_size:
        # Round down to a quarter point so the width is never exceeded by rounding.
        return text, int(fitted * 4) / 4
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if stringWidth(text[:mid].rstrip() + ELLIPSIS, font, min_size) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS, min_size


def _units(text: str) -> list[tuple[bool, str]]:
    """(space before, unit): words of Latin text, and each CJK character on its own."""
    units: list[tuple[bool, str]] = []
    for i, word in enumerate(text.split(" ")):
        if not word:
            continue
        pieces = _CJK.split(word)
        first = True
        for piece in pieces:
            if piece:
                units.append((first and i > 0, piece))
                first = False
    return units


def _break_lines(text: str, font: str, size: float, max_width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for space, unit in _units(text):
        candidate = f"{line} {unit}" if space and line else line + unit
        if stringWidth(candidate, font, size) <= max_width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for ch in unit:  # a word longer than the line is broken between characters
            if line and stringWidth(line + ch, font, size) > max_width:
                lines.append(line)
                line = ""
            line += ch
    if line:
        lines.append(line)
    return lines


def wrap_text(
    text: str, font: str, size: float, min_size: float, max_width: float, max_lines: int
) -> tuple[list[str], float]:
    """Return (lines, size) drawing `text` on at most `max_lines` lines of `max_width`: wrapped
    at spaces (and between CJK characters), shrunk to `min_size`, then the last line ellipsised."""
    text = " ".join(text.split())
    if max_lines <= 1:
        line, fitted = fit_text(text, font, size, min_size, max_width)
        return ([line] if line else []), fitted
    if not text or max_width <= 0:
        return [], size
    current = size
    while True:
        lines = _break_lines(text, font, current, max_width)
        if len(lines) <= max_lines:
            return lines, current
        if current <= min_size:
            break
        current = max(min_size, current - 0.5)
    kept = lines[: max_lines - 1]
    rest = text[len(" ".join(kept)) :] if kept else text
    last, _ = fit_text(rest, font, current, current, max_width)
    return [*kept, last], current
