"""Translations: gettext catalogs managed with Babel (msgids in English, zh_CN by default)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

CATALOG_DIR = Path(__file__).parents[1] / "i18n"
LOCALES = ("zh_CN", "en")
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def normalize(locale: str | None, default: str = "zh_CN") -> str:
    """Map 'zh', 'zh-CN', 'en-US'… onto a supported locale."""
    if not locale:
        return default
    low = locale.replace("-", "_").lower()
    if low.startswith("zh"):
        return "zh_CN"
    if low.startswith("en"):
        return "en"
    return default


def _compile_if_stale(locale: str) -> Path | None:
    po = CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    if not po.exists():
        return None
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        # `make install` compiles with pybabel; this keeps a bare checkout working too.
        with po.open("rb") as f:
            catalog = read_po(f, locale=locale)
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as f:
            write_mo(f, catalog)
        tmp.replace(mo)
    return mo


@cache
def translations(locale: str) -> NullTranslations:
    if _compile_if_stale(locale) is None:
        return NullTranslations()
    return Translations.load(str(CATALOG_DIR), [locale], domain="messages")


def gettext_for(locale: str):  # noqa: ANN201
    return translations(locale).gettext


def reason_text(gettext, r: dict | str) -> str:  # noqa: ANN001
    """A recorded decision reason in a language (`gettext`'s), its parameters translated too."""
    if isinstance(r, str):  # a bare code: runs and hand-overs record `["run_selected"]`
        return str(gettext(r))
    params = {
        k: gettext(v) if isinstance(v, str) and v else v for k, v in r.get("params", {}).items()
    }
    try:
        return str(gettext(r.get("text", ""))).format(**params)
    except (KeyError, IndexError, ValueError):  # a template whose parameters were not kept
        return str(gettext(r.get("text", "")))
