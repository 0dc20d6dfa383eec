"""Templates to HTML responses: language, the caller, the CSRF token and safe headers on every page.

Jinja2 with autoescaping and ``StrictUndefined`` (a name a template expects but a page forgot is an
error in tests, not an empty cell). Every page gets ``t`` (the catalogue in its language), ``lang``,
``principal``, ``csrf_token`` (for the hidden field of each form) and the URLs of the language switch.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from gateway.console.charts import VIETNAM
from gateway.console.i18n import LANG_COOKIE, LANGS, Translator, choose_lang
from gateway.domain.operators import Principal

PAGE_HEADERS = {
    # no inline script anywhere: the page's JS is a file of ours, its settings in data- attributes
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages hold personal data: never kept by a shared cache or the history
}
LANG_COOKIE_SECONDS = 365 * 24 * 3600


def package_dir(name: str) -> Path:
    return Path(str(files("gateway.console").joinpath(name)))


def vn_time(moment: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A moment as a Vietnamese reader expects it: day first, Vietnam time (UTC+7)."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM).strftime(fmt)


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, shortest form (``45 s``, ``12 min``, ``3 h``, ``2 d``)."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = max(0.0, ((now or datetime.now(UTC)) - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def number(value: float | None, digits: int = 0) -> str:
    """Vietnamese grouping: 12.345 and 1,5 (the decimal comma)."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


class Pages:
    def __init__(self, templates: Path | None = None, *, globals_: Mapping[str, Any] | None = None) -> None:
        self.env = Environment(
            loader=FileSystemLoader(str(templates or package_dir("templates"))),
            autoescape=select_autoescape(["html", "svg"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(vn_time=vn_time, age=age, number=number)
        self.env.globals.update(globals_ or {})

    def render_text(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(**context)

    def render(
        self,
        request: Request,
        name: str,
        *,
        principal: Principal | None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        asked = request.query_params.get("lang")
        lang = choose_lang(asked, request.cookies.get(LANG_COOKIE))
        session = getattr(request.state, "ops_session", None)
        html = self.render_text(
            name,
            t=Translator(lang),
            lang=lang,
            principal=principal,
            csrf_token=session.csrf_token if session is not None else "",
            lang_urls={code: switch_lang_url(request, code) for code in LANGS},
            path=request.url.path,
            now=datetime.now(UTC),
            svg=Markup,  # charts are built by gateway.console.charts, which escapes what it draws
            **context,
        )
        response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
        if asked in LANGS:
            response.set_cookie(
                LANG_COOKIE,
                asked,
                max_age=LANG_COOKIE_SECONDS,
                path="/console",
                samesite="strict",
                httponly=True,
            )
        return response


def translator(request: Request) -> Translator:
    """The catalogue in the request's language (``?lang=``, else the cookie, else Vietnamese)."""
    return Translator(choose_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)))


def switch_lang_url(request: Request, lang: str) -> str:
    """This page's URL in another language (its other query parameters kept)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)]
    return f"{request.url.path}?{urlencode(query)}"


def query_url(path: str, params: Mapping[str, str | int | None]) -> str:
    """``path?k=v…`` without the empty ones (filters left blank do not clutter the links)."""
    kept = [(k, str(v)) for k, v in params.items() if v not in (None, "")]
    return f"{path}?{urlencode(kept)}" if kept else path


__all__ = ["PAGE_HEADERS", "Pages", "age", "number", "query_url", "switch_lang_url", "translator", "vn_time"]
