"""Server-rendered pages: the Jinja2 environment, per-request language, CSRF and rendering."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup

from app.core.i18n import LANGUAGE_NAMES, LOCALES, reason_text, translations

# the templates are package data of `app` (grouped by domain, as app/<domain>/ is)
TEMPLATE_DIR = Path(str(files("app") / "templates"))
CSRF_COOKIE = "kitrun_csrf"
SESSION_COOKIE = "kitrun_session"
LANG_COOKIE = "kitrun_lang"

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
    )
)
templates.env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES


@pass_context
def _name(ctx, obj: Any, field: str = "name") -> str:  # noqa: ANN001
    """The Chinese or English name of a thing (object or dict), by the page's language."""
    suffix = "zh" if ctx.get("locale") == "zh_CN" else "en"
    key = f"{field}_{suffix}"
    value = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
    return value or ""


templates.env.globals["name"] = _name


def _tz(ctx) -> str:  # noqa: ANN001
    request = ctx.get("request")
    return request.app.state.settings.timezone if request is not None else "UTC"


@pass_context
def _local(ctx, value: Any, form: str = "datetime") -> str:  # noqa: ANN001
    """A moment in the district's zone, in one of the named forms of app.core.localtime."""
    from app.core.localtime import show

    return show(value, _tz(ctx), form)


@pass_context
def _span(ctx, start: Any, end: Any) -> str:  # noqa: ANN001
    """A slot's start and end in the district's zone (2026-12-02 14:00–14:30)."""
    from app.core.localtime import span

    return span(start, end, _tz(ctx)) if start and end else ""


templates.env.filters["local"] = _local
templates.env.globals["local_span"] = _span


@pass_context
def _reason(ctx, r: dict) -> str:  # noqa: ANN001
    """A recorded decision reason in the page's language (its parameters translated too)."""
    return reason_text(ctx["gettext"], r)


templates.env.globals["reason_text"] = _reason
templates.env.globals["LOCALES"] = LOCALES
templates.env.policies["ext.i18n.trimmed"] = True
templates.env.newstyle_gettext = True


def gettext(request: Request):  # noqa: ANN201
    return translations(getattr(request.state, "locale", "zh_CN")).gettext


def _newstyle(gettext_fn, ngettext_fn):  # noqa: ANN001, ANN202
    """Jinja's new-style gettext: keyword arguments are formatted in, with autoescaping."""

    def gettext_(message: str, **kwargs: Any) -> str:
        rv = gettext_fn(message)
        rv = Markup(rv) if templates.env.autoescape else rv
        return rv % kwargs if kwargs else rv

    def ngettext_(singular: str, plural: str, num: int, **kwargs: Any) -> str:
        kwargs.setdefault("num", num)
        rv = ngettext_fn(singular, plural, num)
        rv = Markup(rv) if templates.env.autoescape else rv
        return rv % kwargs

    return gettext_, ngettext_


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page with the request's language, user and CSRF token."""
    tr = translations(request.state.locale)
    gettext_, ngettext_ = _newstyle(tr.gettext, tr.ngettext)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    ctx: dict[str, Any] = {
        "request": request,
        "_": gettext_,
        "gettext": gettext_,
        "ngettext": ngettext_,
        "locale": request.state.locale,
        "html_lang": "zh-CN" if request.state.locale == "zh_CN" else "en",
        "user": getattr(request.state, "user", None),
        "csrf_token": request.state.csrf_token,
        "here": quote(here, safe="/?=&"),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


# The diplomat's navigation and landing tiles; each capability adds its entry here.
ADMIN_NAV: list[tuple[str, str]] = [
    ("/admin/dashboard", "Dashboard"),
    ("/admin/campaigns", "Campaigns"),
    ("/admin/claims", "Claims"),
    ("/admin/stock", "Stock"),
    ("/admin/items", "Items"),
    ("/admin/locations", "Locations"),
    ("/admin/schools", "Schools"),
    ("/admin/pickup", "Pickup"),
    ("/admin/runs", "Delivery runs"),
    ("/admin/labels", "Labels"),
    ("/admin/privacy/views", "Personal data views"),
]
ADMIN_TILES: list[tuple[str, str, str]] = [
    ("/admin/dashboard", "Dashboard", "Where the campaign stands: figures, charts, daily reports"),
    ("/admin/campaigns", "Campaigns", "Rounds, eligible schools, claim form links"),
    ("/admin/claims", "Claims", "Review, approve or reject; why each claim was decided"),
    ("/admin/slots", "Pickup slots", "Opening slots and capacity at each pickup point"),
    ("/admin/stock", "Stock", "Levels, expiry and low-stock warnings, receive and assemble"),
    ("/admin/items", "Items", "Masks, sanitizer, wipes, guides and kit recipes"),
    ("/admin/locations", "Locations", "Warehouse, pickup points and vehicles"),
    ("/admin/schools", "Schools", "Schools, e-mail domains and student rosters"),
    ("/admin/pickup", "Pickup", "Volunteers at points, scan log, offline conflicts, undo"),
    ("/admin/audit", "Audit trail", "Who changed what and when, before and after"),
    ("/admin/runs", "Delivery runs", "Plan routes for the cars, adjust, dispatch, print, follow"),
    ("/admin/labels", "Labels", "Print kit labels on A4, Letter or thermal label sheets"),
    (
        "/admin/privacy/views",
        "Personal data views",
        "Who was shown a minor's address or phone: when, where, which claim",
    ),
]
templates.env.globals["admin_nav"] = ADMIN_NAV
templates.env.globals["admin_tiles"] = ADMIN_TILES
