"""`GET /privacy` and `GET /terms`: the privacy notice and the terms of use as small web pages.

They are the Teams app package's default privacy and terms URLs (`BREATHER_PUBLIC_URL` + path),
which Teams admins and store review open. The privacy page is the `/breather privacy` text that
agents already see in chat, so the two never disagree; both come from the message catalogue,
in the language asked for by `?lang=` or the browser's `Accept-Language`, English otherwise.
Static HTML: no script, no outside resources, every catalogue text escaped.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bot.config import ProductSettings
from bot.container import Services
from bot.i18n import FALLBACK, available_languages, catalogue
from bot.i18n.bidi import is_rtl, without_marks
from handlers.sandbox.blockkit_html import mrkdwn_html

PRIVACY_PATH = "/privacy"
TERMS_PATH = "/terms"
MAX_LANGUAGES = 20  # an Accept-Language header longer than this is read only so far
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1d1d1d}h1{font-size:1.5rem;color:#2e7d6b}li{margin:.4rem 0}"
)


def _quality(part: str) -> tuple[str, float]:
    tag, _, params = part.strip().partition(";")
    quality = 1.0
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
    return tag.strip().lower(), quality


def language(asked: str | None, accept_language: str | None, languages: tuple[str, ...]) -> str:
    """`?lang=ro`, else the best of `Accept-Language` among `languages`, else English."""
    wanted = (asked or "").strip().lower()
    if wanted in languages:
        return wanted
    parts = (accept_language or "").split(",")[:MAX_LANGUAGES]
    offers = [_quality(part) for part in parts if part.strip()]
    for tag, quality in sorted(offers, key=lambda offer: -offer[1]):
        primary = tag.split("-", 1)[0]
        if quality > 0 and primary in languages:
            return primary
    return FALLBACK


def _body(text: str) -> str:
    """Catalogue mrkdwn as HTML: a first `*bold*` line becomes the heading, `• ` lines a list."""
    # The page carries its direction itself (`dir`), so the catalogue's direction marks go.
    lines = [line for line in without_marks(text).strip().splitlines() if line.strip()]
    out: list[str] = []
    items: list[str] = []
    for number, line in enumerate(lines):
        if line.lstrip().startswith("•"):
            items.append(f"<li>{mrkdwn_html(line.lstrip()[1:].strip(), {})}</li>")
            continue
        if items:
            out.append(f"<ul>{''.join(items)}</ul>")
            items = []
        stripped = line.strip()
        if number == 0 and stripped.startswith("*") and stripped.endswith("*"):
            out.append(f"<h1>{html.escape(stripped.strip('*'))}</h1>")
        else:
            out.append(f"<p>{mrkdwn_html(stripped, {})}</p>")
    if items:
        out.append(f"<ul>{''.join(items)}</ul>")
    return "\n".join(out)


def page(lang: str, title: str, body: str, *, link: str, link_text: str) -> str:
    """One page; `link` is the other page's path, kept in the same language."""
    href = html.escape(f"{link}?lang={lang}")
    return (
        f'<!doctype html>\n<html lang="{html.escape(lang)}" dir="{"rtl" if is_rtl(lang) else "ltr"}">\n'
        '<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f'{body}\n<p><small><a href="{href}">{html.escape(link_text)}</a></small></p>\n'
        "</main>\n</body>\n</html>\n"
    )


def privacy_page(lang: str, product: ProductSettings) -> str:
    cat = catalogue(lang)
    text = cat.t(
        "command.privacy",
        min_group=product.anonymity_min_group,
        count=product.retention_days,
        retention_days=product.retention_days,
    )
    return page(
        cat.language,
        cat.t("legal.privacy_title"),
        _body(text),
        link=TERMS_PATH,
        link_text=cat.t("legal.terms_title"),
    )


def terms_page(lang: str) -> str:
    cat = catalogue(lang)
    return page(
        cat.language,
        cat.t("legal.terms_title"),
        _body(cat.t("legal.terms")),
        link=PRIVACY_PATH,
        link_text=cat.t("legal.privacy_title"),
    )


def _answer(document: str, lang: str) -> Response:
    return HTMLResponse(
        document,
        headers={
            "Content-Language": lang,
            "Content-Security-Policy": CSP,
            "Cache-Control": "public, max-age=3600",
            "Vary": "Accept-Language",
        },
    )


def _language_of(request: Request) -> str:
    return language(
        request.query_params.get("lang"), request.headers.get("accept-language"), available_languages()
    )


def routes(services: Services) -> list[Route]:
    async def privacy(request: Request) -> Response:
        lang = _language_of(request)
        return _answer(privacy_page(lang, services.product), lang)

    async def terms(request: Request) -> Response:
        lang = _language_of(request)
        return _answer(terms_page(lang), lang)

    return [
        Route(PRIVACY_PATH, privacy, methods=["GET", "HEAD"]),
        Route(TERMS_PATH, terms, methods=["GET", "HEAD"]),
    ]
