"""Every HTML page of the app, in Chinese and in English, speaks one language.

The pages come from the app's own route table (every GET that is not API, file or mount), with
path parameters filled from one seeded world (tests/i18n/world.py) and rendered as a role that
may see them (routes/access.py). For each page:

- zh_CN: no msgid is looked up without a Chinese translation (the app's zh_CN Translations
  object records its misses); no msgid of the catalog appears verbatim in the visible text once
  the data's own values are taken out (codes and units that stay in Latin letters are listed in
  support.UNTRANSLATABLE, or kept by the translator in the catalog); no bilingual name (school,
  location, item, campaign) shows its English form.
- en: no Chinese character outside the students' own Chinese names, the language switcher
  and the Chinese that msgids hold by design (the CSV column headers a file may use).

The pages where staff keep the bilingual records themselves (BILINGUAL) show both names of
each record by design: there the data is taken out in both languages and the name check is
skipped; their own words are checked as everywhere.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from starlette.routing import Mount

from routes.access import RULES, Who
from tests.i18n.support import (
    SWITCHER,
    EnglishFinder,
    cjk_in_msgids,
    cjk_runs,
    english_phrases,
    read_catalog,
    strip_values,
    visible_text,
)
from tests.i18n.world import build, values
from tests.security.test_access_matrix import Caller, app_routes

# Who a page is rendered as: every kind of account whose page differs.
AS = {
    Who.anyone: ("anonymous",),
    Who.token: ("anonymous",),
    Who.staff: ("assigned volunteer", "driver", "diplomat"),
    Who.point: ("assigned volunteer",),
    Who.vehicle: ("driver",),
    Who.diplomat: ("diplomat",),
}
# Pages that show both names of each record, by design: the records' editors and the audit.
BILINGUAL = {
    "/admin/items",
    "/admin/locations",
    "/admin/schools",
    "/admin/schools/{school_id}",
    "/admin/campaigns",
    "/admin/audit",
}
# The API's documentation: Swagger UI over the OpenAPI description, both English only (the
# API answers scripts in English); the page says so with <html lang="en">.
ENGLISH_ONLY = {"/docs"}
# Pages seen in other states than the path alone gives (query strings), and error pages.
EXTRA = (
    ("anonymous", "/s/{token}?msg=verified"),
    ("anonymous", "/s/{token}?msg=slot"),
    ("anonymous", "/s/{token}?msg=cancelled"),
    ("anonymous", "/s/{token}?msg=resent"),
    ("anonymous", "/s/{token}?msg=found"),
    ("diplomat", "/admin/claims/999999"),
    ("anonymous", "/s/not-a-token"),
    ("diplomat", "/admin/claims?status=rejected"),
    ("diplomat", "/admin/stock/card?item_id={item_id}"),
    ("diplomat", "/admin/stock/card"),
    ("diplomat", "/admin/stock/nothing"),
    ("anonymous", "/zz9"),
)


def urls(path: str, params: dict, many: dict[str, list]) -> list[str]:
    """The path with its parameters filled: once per value of a parameter with several."""
    names = re.findall(r"{(\w+)(?::\w+)?}", path)
    several = next((n for n in names if n in many), None)
    choices = [{}] if several is None else [{several: v} for v in many[several]]
    return [
        re.sub(r"{(\w+)(?::\w+)?}", lambda m, c=c: str({**params, **c}[m.group(1)]), path)
        for c in choices
    ]


def pages(app, world, many: dict) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """(role, url, route path) of every HTML page to render."""
    out = []
    for method, path, route in app_routes(app):
        if method != "GET" or path.startswith("/api/") or isinstance(route, Mount):
            continue
        if path.endswith((".pdf", ".png", ".json")) or path in ("/lang/{code}", "/metrics"):
            continue  # documents (tests/i18n/test_documents.py), images, the switch's redirect,
            # Prometheus' text format
        for role in AS[RULES[f"{method} {path}"]]:
            out += [(role, u, path) for u in urls(path, world.params, many)]
    for role, url in EXTRA:
        path, _, query = url.partition("?")
        query = re.sub(r"{(\w+)}", lambda m: str(world.params[m.group(1)]), query)
        u = urls(path, world.params, many)[-1]
        out.append((role, f"{u}?{query}" if query else u, path))
    return out


def test_every_page_speaks_one_language(app, recorder) -> None:  # noqa: ANN001
    world, many = build(app)
    rendered: list[tuple[str, str, str, str]] = []  # (where, route path, lang, html)
    problems: list[str] = []
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        caller = Caller(client, world)
        for role, url, path in pages(app, world, many):
            for lang in ("zh_CN", "en"):
                where = f"{url} as {role}"
                recorder.where = where
                sep = "&" if "?" in url else "?"
                r = caller.call(role, "GET", f"{url}{sep}lang={lang}", None)
                if not r.headers.get("content-type", "").startswith("text/html"):
                    continue  # a redirect, the health check's JSON, a job's PDF file
                if r.status_code >= 500:
                    problems.append(f"{where} ({lang}): {r.status_code}")
                rendered.append((where, path, lang, r.text))
    assert len(rendered) > 100, f"only {len(rendered)} pages rendered"

    data, people, named = values(app)
    catalog = read_catalog()
    english = EnglishFinder(catalog)
    translated_names = set(named.values())
    shown_as_is = data - set(named)  # data without the bilingual names' English forms
    by_design = cjk_in_msgids(catalog) | set(SWITCHER) | people
    for where, path, lang, html in rendered:
        text = visible_text(html)
        if path in ENGLISH_ONLY:
            continue
        if path in BILINGUAL:
            text = strip_values(text, data)
        if lang == "zh_CN":
            for en in sorted(named):
                if re.search(rf"(?<![A-Za-z]){re.escape(en)}(?![A-Za-z])", text):
                    problems.append(f"{where} (zh_CN): English name {en!r} (not {named[en]!r})")
            bare = strip_values(text, shown_as_is | set(named))
            found = english.find(bare) + english_phrases(bare)
            if found:
                problems.append(f"{where} (zh_CN): English text {found}")
        else:
            bare = strip_values(text, by_design)
            runs = cjk_runs(bare)
            if runs:
                names = sorted(set(runs) & translated_names)
                problems.append(
                    f"{where} (en): Chinese text {runs}" + (f", names {names}" if names else "")
                )
    missed = recorder.report(ignore=people | set(named) | translated_names)
    if missed:
        problems.append(f"{len(missed)} msgids looked up without a Chinese translation:")
        problems += missed
    assert not problems, f"{len(problems)} problems in {len(rendered)} pages:\n" + "\n".join(
        problems
    )
