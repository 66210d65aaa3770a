"""Reading CSV uploads as Excel writes them: UTF-8 (BOM or not) or GB18030/GBK, any delimiter."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.core.errors import N_, Invalid

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DELIMITERS = (",", "\t", ";")


@dataclass
class LineError:
    """One bad line of an upload: where, which field, and why (a translatable template)."""

    line: int
    field: str
    msg: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return self.msg.format(**self.params) if self.params else self.msg

    def public(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "reason": self.reason}

    def stored(self) -> dict[str, Any]:
        return {**self.public(), "msg": self.msg, "params": self.params}


def decode(data: bytes) -> str:
    """Decode an upload: strict UTF-8 (with or without BOM), else GB18030; else a clear 422."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise Invalid(
            N_("The file is too large (over {mb} MB)."),
            params={"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
            code="file_too_large",
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # UTF-16 without a BOM decodes as GB18030 full of NULs: no spreadsheet writes those.
        if "\x00" not in text:
            return text
    raise Invalid(
        N_(
            "The file is not UTF-8 or GBK: save it from Excel as “CSV UTF-8” "
            "or “CSV (comma delimited)” and upload it again."
        ),
        code="bad_encoding",
    )


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: comma, tab or semicolon, whichever occurs most."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def header_key(text: str) -> str:
    """A header cell reduced for matching: NFKC, lower-case, no spaces, '_', '-', '.' or ':'."""
    s = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"[\s_\-.:：]+", "", s)


def _strip_parenthetical(key: str) -> str:
    return re.sub(r"\(.*\)$", "", key)


def map_headers(
    header: list[str], synonyms: dict[str, list[str]], required: list[str]
) -> tuple[dict[str, int], list[LineError]]:
    """Map header cells to fields by synonyms (exact first, then without a '(…)' suffix)."""
    lookup = {header_key(s): name for name, words in synonyms.items() for s in words}
    found: dict[str, int] = {}
    errors: list[LineError] = []
    for strip in (False, True):
        for i, cell in enumerate(header):
            key = header_key(cell)
            key = _strip_parenthetical(key) if strip else key
            name = lookup.get(key)
            if name is None or i in found.values():
                continue
            if name in found:
                if not strip:
                    errors.append(
                        LineError(
                            1,
                            name,
                            N_("Two columns mean the same thing: “{a}” and “{b}”."),
                            {"a": header[found[name]].strip(), "b": cell.strip()},
                        )
                    )
                continue
            found[name] = i
    missing = [name for name in required if name not in found]
    if missing:
        errors.append(
            LineError(
                1,
                ",".join(missing),
                N_("Missing column(s): {missing}. The header line reads: {header}."),
                {"missing": ", ".join(missing), "header": " | ".join(c.strip() for c in header)},
            )
        )
    return found, errors


def rows(text: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header cells and an iterator of (line number, cells) for non-blank lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    header = next(reader, [])

    def body() -> Iterator[tuple[int, list[str]]]:
        for cells in reader:
            if any(c.strip() for c in cells):
                yield reader.line_num, cells

    return header, body()


def cell(cells: list[str], index: int | None) -> str:
    """The stripped, NFKC-normalised cell at index ('' when the line is short)."""
    if index is None or index >= len(cells):
        return ""
    value = cells[index]
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    return value.strip()
