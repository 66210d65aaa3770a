"""Writing CSV exports: the one writer every export uses (UTF-8 with BOM, formulas defused).

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and some also
after a leading tab or carriage return), so a claim's name `=HYPERLINK("http://x")` would be a
live link in Excel. As OWASP recommends ("CSV Injection"), such a text cell is written with a
leading apostrophe, which spreadsheets show as text; quotes and separators are quoted by `csv`.
Numbers (int, float, Decimal) are written as numbers, negative ones included, and so is a text
cell that is a plain decimal number (`-3`, `-0.5`): it cannot carry a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from numbers import Number

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")


def cell(value: object) -> object:
    """A value as it may go into a CSV cell: text that a spreadsheet would run is defused."""
    if value is None:
        return ""
    if isinstance(value, Number):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(TRIGGERS) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def comment(text: str) -> str:
    """A notice as a comment line's one cell: `# ` and the text on one line."""
    return "# " + " ".join(str(text).split())


class Writer:
    """A CSV document with a header row; every cell goes through `cell`. A `notice` (an export
    of personal data says what it holds and how to treat it) comes first, as a comment row."""

    def __init__(self, header: Sequence[str], notice: str | None = None) -> None:
        self._buf = io.StringIO()
        self._buf.write("\ufeff")  # BOM, so Excel reads UTF-8
        self._csv = csv.writer(self._buf)
        self.rows = 0  # rows written after the header
        if notice is not None:
            # One cell, quoted when it holds a separator: a reason typed by a person (`a,=1+2`)
            # never starts a cell of its own (`;` is the separator of Excel in many locales).
            line = comment(notice)
            quoting = csv.QUOTE_ALL if ";" in line else csv.QUOTE_MINIMAL
            csv.writer(self._buf, quoting=quoting).writerow([line])
        self._csv.writerow([cell(v) for v in header])

    def writerow(self, row: Iterable[object]) -> None:
        self._csv.writerow([cell(v) for v in row])
        self.rows += 1

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)

    def to_bytes(self) -> bytes:
        return self._buf.getvalue().encode("utf-8")
