"""Fit one line of text into a width: shrink to a minimum size, then cut with an ellipsis."""

from reportlab.pdfbase.pdfmetrics import stringWidth

ELLIPSIS = "…"


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
