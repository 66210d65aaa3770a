"""Errors raised by the label renderers."""


class LabelError(ValueError):
    """Bad input to a label or route-sheet renderer (unknown format, bad start, no data)."""
