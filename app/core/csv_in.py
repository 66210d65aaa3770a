"""Reading CSV uploads as Excel writes them, line by line: UTF-8 (BOM or not) or GB18030/GBK
(never both in one file), any delimiter; at most MAX_ERRORS line errors kept."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from app.core.errors import N_, Invalid

MAX_ERRORS = 1000  # line errors kept and shown; every bad line is counted
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


class LineErrors(Invalid):
    """A file refused line by line: its first MAX_ERRORS errors, and how many lines were bad."""

    def __init__(
        self,
        message: str,
        *,
        errors: list[LineError],
        bad_lines: int,
        params: dict[str, Any] | None = None,
        code: str = "bad_lines",
    ) -> None:
        super().__init__(
            message, params=params, details=[e.public() for e in errors[:MAX_ERRORS]], code=code
        )
        self.errors = errors[:MAX_ERRORS]
        self.bad_lines = bad_lines


class ErrorLog:
    """Line errors as a file is read: the first MAX_ERRORS kept, every bad line counted."""

    def __init__(self) -> None:
        self.errors: list[LineError] = []
        self.bad_lines = 0

    def add(self, errors: list[LineError]) -> None:
        if errors:
            self.bad_lines += 1
            self.errors.extend(errors[: MAX_ERRORS - len(self.errors)])

    def __bool__(self) -> bool:
        return self.bad_lines > 0


BAD_ENCODING = N_(
    "The file is not UTF-8 or GBK: save it from Excel as “CSV UTF-8” "
    "or “CSV (comma delimited)” and upload it again."
)
MIXED_ENCODINGS = N_(
    "The file mixes encodings (UTF-8 and GBK): nothing was imported. Save the whole file "
    "in one encoding (Excel: “CSV UTF-8”) and upload it again."
)


def _split_cr(raw: bytes) -> list[bytes]:
    return [p for p in re.split(rb"(?<=\r)(?!\n)", raw) if p]


@dataclass
class CsvFile:
    """A CSV upload being read: its header cells, an iterator of (line, cells), its line count."""

    header: list[str]
    body: Iterator[tuple[int, list[str]]]
    total_lines: int
    encoding: str


def _size(stream: BinaryIO) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def detect_encoding(stream: BinaryIO) -> tuple[str, int]:
    """The file's encoding, 'utf-8' or 'gb18030', and its number of lines, reading line by line.

    Strict UTF-8 (with or without BOM) unless some line is not UTF-8 and is GBK (GB18030). A
    line holding Chinese characters in UTF-8 (three-byte sequences, never valid GBK) and another
    in GBK make the file mixed: LineErrors lists the lines of the smaller group. (A line whose
    only non-ASCII letters are two-byte UTF-8, e.g. accents, is valid GBK too: read as the file.)
    """
    utf8: list[int] = []
    gbk: list[int] = []
    counts = {"utf8": 0, "gbk": 0}
    n = 0
    bom = False
    for n, raw in enumerate(_lines_of(stream), start=1):
        if n == 1 and raw.startswith(codecs.BOM_UTF8):
            raw, bom = raw[len(codecs.BOM_UTF8) :], True
        if b"\x00" in raw:  # UTF-16 without a BOM decodes as GB18030 full of NULs
            raise Invalid(BAD_ENCODING, code="bad_encoding")
        if raw.isascii():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                raw.decode("gb18030")
            except UnicodeDecodeError:
                raise Invalid(BAD_ENCODING, code="bad_encoding") from None
            counts["gbk"] += 1
            if len(gbk) < MAX_ERRORS:
                gbk.append(n)
            continue
        if bom or max(map(ord, text)) >= 0x800:
            counts["utf8"] += 1
            if len(utf8) < MAX_ERRORS:
                utf8.append(n)
    if not counts["gbk"]:
        return "utf-8", n
    if not counts["utf8"]:
        return "gb18030", n
    odd, lines, other = (
        ("UTF-8", utf8, "GBK") if counts["utf8"] <= counts["gbk"] else ("GBK", gbk, "UTF-8")
    )
    raise LineErrors(
        MIXED_ENCODINGS,
        errors=[
            LineError(
                line,
                "",
                N_("This line is in {this}, other lines of the file are in {other}."),
                {"this": odd, "other": other},
            )
            for line in lines
        ],
        bad_lines=min(counts.values()),
        code="mixed_encoding",
    )


def _lines_of(stream: BinaryIO) -> Iterator[bytes]:
    stream.seek(0)
    for raw in stream:
        # a lone CR ends a line too (old Mac files); CR LF and LF are left as they are
        if b"\r" in raw and raw.count(b"\r") > raw.endswith(b"\r\n"):
            yield from _split_cr(raw)
        else:
            yield raw


def open_csv(data: bytes | BinaryIO, *, max_bytes: int) -> CsvFile:
    """Read an upload as CSV, one line at a time: any delimiter, UTF-8 or GBK (never mixed).

    Invalid when it is larger than max_bytes or in another encoding, LineErrors when its lines
    mix encodings or one cannot be read as CSV (e.g. a field over 128 KiB).
    """
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    if _size(stream) > max_bytes:
        raise Invalid(
            N_("The file is too large (over {mb} MB)."),
            params={"mb": max_bytes // (1024 * 1024)},
            code="file_too_large",
        )
    encoding, total = detect_encoding(stream)
    decoder = codecs.getincrementaldecoder("utf-8-sig" if encoding == "utf-8" else encoding)()
    texts = (decoder.decode(raw) for raw in _lines_of(stream))
    first = next(texts, "")
    reader = csv.reader(itertools.chain([first], texts), delimiter=sniff_delimiter(first))

    def read(what: Iterator[list[str]]) -> list[str] | None:
        try:
            return next(what, None)
        except csv.Error as exc:
            raise LineErrors(
                N_("Line {line} cannot be read as CSV: nothing was imported."),
                params={"line": reader.line_num},
                errors=[
                    LineError(
                        reader.line_num, "", N_("Not a CSV line: {error}."), {"error": str(exc)}
                    )
                ],
                bad_lines=1,
                code="bad_csv",
            ) from None

    header = read(reader) or []

    def body() -> Iterator[tuple[int, list[str]]]:
        while (cells := read(reader)) is not None:
            if any(c.strip() for c in cells):
                yield reader.line_num, cells

    return CsvFile(header, body(), max(total, 1), encoding)


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


def cell(cells: list[str], index: int | None) -> str:
    """The stripped, NFKC-normalised cell at index ('' when the line is short)."""
    if index is None or index >= len(cells):
        return ""
    value = cells[index]
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    return value.strip()
