"""What the language tests share: the messages of the sources, the catalog, a recorder of
untranslated lookups, and the checks of one rendered text (HTML page, PDF text, e-mail)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
ZH_PO = ROOT / "app" / "i18n" / "zh_CN" / "LC_MESSAGES" / "messages.po"

# Words that stay as they are in a Chinese text: codes, units, formats, proper names. A msgid
# whose Chinese translation keeps it verbatim (e.g. "SKU" → "SKU") is allowed too, by the
# translator's decision recorded in the catalog.
UNTRANSLATABLE = {
    "QR",
    "SKU",
    "ID",
    "CSV",
    "PDF",
    "A4",
    "Letter",
    "API",
    "OK",
    "WeChat",
    "E.164",
    "km",
    "kg",
    "min",
    "h",
}
# The language switcher names each language in itself.
SWITCHER = ("中文", "English")

# CJK ideographs, their punctuation and full-width forms
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")


# ---------------------------------------------------------------- messages and catalog


def extract(root: Path = ROOT) -> dict[str | tuple, list[str]]:
    """The messages of the sources (as `make extract-messages` finds them) → where they are."""
    with (root / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, str(root / "babel.cfg"))
    keywords = {**DEFAULT_KEYWORDS, "_": None, "N_": None}
    out: dict[str | tuple, list[str]] = defaultdict(list)
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(root), method_map, options_map, keywords=keywords, strip_comment_tags=True
    ):
        if context is None and message:
            out[message].append(f"{filename}:{lineno}")
    return out


def read_catalog(path: Path = ZH_PO, locale: str = "zh_CN") -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


_PERCENT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGcu%]")
_BRACE = re.compile(r"(?<!\{)\{(\w*)(?:[!:][^{}]*)?\}(?!\})")


def placeholders(text: str) -> tuple[list[str], list[str]]:
    """The %-style (Jinja, python-format) and {}-style (str.format) placeholders of a text."""
    percent = sorted(m.group(1) or m.group(0) for m in _PERCENT.finditer(text))
    return percent, sorted(_BRACE.findall(text))


def catalog_problems(messages: dict, catalog: Catalog) -> list[str]:
    """Each source message that the catalog lacks, leaves empty, marks fuzzy, or translates
    with other placeholders than the msgid's."""
    problems = []
    for message, where in sorted(messages.items(), key=lambda kv: str(kv[0])):
        ids = message if isinstance(message, tuple) else (message,)
        entry = catalog.get(ids[0])
        at = where[0]
        if entry is None:
            problems.append(f"missing: {ids[0]!r} ({at})")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings):
            problems.append(f"empty: {ids[0]!r} ({at})")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r} ({at})")
        else:
            allowed = [placeholders(i) for i in ids]
            for s in strings:
                if placeholders(s) not in allowed:
                    problems.append(f"placeholders differ: {ids[0]!r} → {s!r} ({at})")
    return problems


def msgid_texts(catalog: Catalog) -> dict[str, str]:
    """Each singular and plural msgid of the catalog → its (first) Chinese translation."""
    out = {}
    for entry in catalog:
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        first = entry.string[0] if isinstance(entry.string, tuple) else entry.string
        for i in ids:
            out[i] = first or ""
    return out


# ---------------------------------------------------------------- recorder


@dataclass
class Recorder:
    """Every msgid looked up in the Chinese catalog without a translation, and where."""

    where: str = "?"
    missed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def wrap(self, translations, monkeypatch) -> None:  # noqa: ANN001
        """Instrument one Translations object (the app's cached zh_CN one) for one test."""
        catalog = translations._catalog
        gettext, ngettext = translations.gettext, translations.ngettext

        def recorded_gettext(message: str) -> str:
            if message and message not in catalog:
                self.missed[message].add(self.where)
            return gettext(message)

        def recorded_ngettext(singular: str, plural: str, n: int) -> str:
            if (singular, 0) not in catalog:
                self.missed[singular].add(self.where)
            return ngettext(singular, plural, n)

        monkeypatch.setattr(translations, "gettext", recorded_gettext)
        monkeypatch.setattr(translations, "ngettext", recorded_ngettext)

    def report(self, ignore: set[str] = frozenset()) -> list[str]:
        return [
            f"{m!r} at {', '.join(sorted(w)[:4])}{' …' if len(w) > 4 else ''}"
            for m, w in sorted(self.missed.items())
            if m not in ignore
        ]


# ---------------------------------------------------------------- texts


class _Visible(HTMLParser):
    """The text a reader sees: text nodes, and the attributes shown as text (title,
    placeholder, aria-label, alt, a button's value); the strings of the scripts' message
    blocks (`<script type="application/json" id="…i18n">`). Not scripts and styles, and not
    what is shown as code: `<code>`, `<pre>`, `<kbd>`, `<samp>` (reason codes, examples) and
    the audit trail's recorded values (`class="diff"`), which are data as stored."""

    SHOWN = ("title", "placeholder", "aria-label", "alt")
    HIDDEN = ("script", "style")
    CODE = ("code", "pre", "kbd", "samp")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip: list[str] = []  # the open elements whose content is not prose
        self.json = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if self.skip:
            if tag == self.skip[0]:
                self.skip.append(tag)
            return
        for name in self.SHOWN:
            if a.get(name):
                self.parts.append(a[name])
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.parts.append(a["value"])
        if tag in self.HIDDEN or tag in self.CODE or "diff" in (a.get("class") or "").split():
            self.json = tag == "script" and "i18n" in (a.get("id") or "")
            self.skip.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skip and tag == self.skip[0]:
            self.skip.pop()
            if not self.skip:
                self.json = False

    def handle_data(self, data: str) -> None:
        if self.json:
            self.parts.extend(_strings(json.loads(data)))
        elif not self.skip:
            self.parts.append(data)


def _strings(value) -> list[str]:  # noqa: ANN001
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def visible_text(html: str) -> str:
    p = _Visible()
    p.feed(html)
    p.close()
    return " ".join(" ".join(p.parts).split())


def strip_values(text: str, values: set[str]) -> str:
    """`text` without the data values it shows (longest first), each replaced by a bar."""
    for v in sorted({" ".join(v.split()) for v in values}, key=len, reverse=True):
        if v:  # a whole value: "kit" in "kitrun" is not the value "kit"
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(v)}(?![A-Za-z0-9])", " | ", text)
    return text


class EnglishFinder:
    """Finds the catalog's msgids verbatim in a text (at word boundaries; a placeholder
    matches any short run of characters)."""

    def __init__(self, catalog: Catalog) -> None:
        texts = msgid_texts(catalog)
        patterns = []
        for msgid, zh in texts.items():
            norm = " ".join(msgid.split())
            if not re.search("[A-Za-z]{2}", norm) or norm in UNTRANSLATABLE or norm in zh:
                continue
            parts = re.split(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{\w*\}", norm)
            patterns.append((len(norm), r"[^|]{1,40}?".join(re.escape(p) for p in parts)))
        patterns.sort(reverse=True)
        alternation = "|".join(p for _, p in patterns)
        self.regex = re.compile(rf"(?<![A-Za-z0-9_])(?:{alternation})(?![A-Za-z0-9_])")

    def find(self, text: str) -> list[str]:
        return sorted({m.group(0) for m in self.regex.finditer(text)})


_URL = re.compile(r"\b(?:https?://|/)[^\s|]*|[\w.+-]+@[\w.-]+")
_PHRASE = re.compile(r"(?<![\w.-])[A-Za-z][a-z'’-]*[a-z](?: +[A-Za-z][a-z'’-]*[a-z])+")


def english_phrases(text: str) -> list[str]:
    """Runs of two or more English-looking words (addresses and URLs aside): hard-coded text
    that is no msgid at all shows here."""
    return sorted(set(_PHRASE.findall(_URL.sub(" | ", text))))


def cjk_in_msgids(catalog: Catalog) -> set[str]:
    """The Chinese that msgids hold by design (the Chinese column headers a CSV may have)."""
    return {run for msgid in msgid_texts(catalog) for run in CJK.findall(msgid)}


def cjk_runs(text: str) -> list[str]:
    return sorted(set(CJK.findall(text)))
