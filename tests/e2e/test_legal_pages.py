"""/privacy and /terms: the Teams package's default URLs resolve to pages the server serves."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from urllib.parse import urlsplit

import pytest

from bot.i18n import catalogue
from bot.i18n.bidi import without_marks
from handlers.legal import language
from handlers.teams.package import PackageInfo, package
from tests.conftest import Harness

APP_ID = "00000000-0000-4000-8000-000000000001"


def visible_text(page: str) -> str:
    """The words a reader sees: tags dropped, entities decoded, spaces collapsed."""
    body = page.split("<main>", 1)[1].split("</main>", 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def plain(mrkdwn: str) -> str:
    """The words, without markup or direction marks (the page says `dir` instead)."""
    words = without_marks(mrkdwn).replace("•", " ").replace("*", " ").replace("`", " ")
    return " ".join(words.split())


def test_a_package_built_with_defaults_links_to_pages_the_server_serves(harness: Harness) -> None:
    public_url = harness.services.settings.public_url
    archive = zipfile.ZipFile(
        io.BytesIO(
            package(PackageInfo(APP_ID, public_url, "1.0.0", "Example Contact Centre"), catalogue("en"))
        )
    )
    developer = json.loads(archive.read("manifest.json"))["developer"]

    pages = {}
    for field in ("privacyUrl", "termsOfUseUrl"):
        url = urlsplit(developer[field])
        assert f"{url.scheme}://{url.netloc}" == public_url
        response = harness.client.get(url.path)
        assert response.status_code == 200, field
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["content-language"] == "en"
        assert "script" not in response.text.lower()
        pages[field] = response.text

    # The privacy page says what `/breather privacy` says in chat, word for word.
    said = harness.services.commands.breather(None, "privacy").text
    assert plain(said) in visible_text(pages["privacyUrl"])
    assert "5 people" in visible_text(pages["privacyUrl"])  # the configured anonymity_min_group
    assert plain(catalogue("en").t("legal.terms")) in visible_text(pages["termsOfUseUrl"])
    # Each page links to the other.
    assert 'href="/terms?lang=en"' in pages["privacyUrl"]
    assert 'href="/privacy?lang=en"' in pages["termsOfUseUrl"]


def test_a_language_breather_does_not_speak_yet_gets_english(harness: Harness) -> None:
    response = harness.client.get("/privacy?lang=xx", headers={"Accept-Language": "de-DE, fr;q=0.8"})

    assert response.status_code == 200
    assert '<html lang="en" dir="ltr">' in response.text
    assert harness.client.head("/terms").status_code == 200


@pytest.mark.parametrize(
    ("query", "header", "language"),
    [("?lang=ro", None, "ro"), ("", "fa-IR,fa;q=0.9,en;q=0.5", "fa")],
)
def test_the_pages_are_in_the_language_asked_for(
    harness: Harness, query: str, header: str | None, language: str
) -> None:
    cat = catalogue(language)
    headers = {"Accept-Language": header} if header else {}

    privacy = harness.client.get(f"/privacy{query}", headers=headers)
    terms = harness.client.get(f"/terms{query}", headers=headers)

    for response in (privacy, terms):
        assert response.status_code == 200
        assert response.headers["content-language"] == language
        direction = "rtl" if language == "fa" else "ltr"
        assert f'<html lang="{language}" dir="{direction}">' in response.text
    assert html.escape(cat.t("legal.privacy_title")) in privacy.text
    product = harness.services.product
    said = cat.t(
        "command.privacy",
        min_group=product.anonymity_min_group,
        count=product.retention_days,
        retention_days=product.retention_days,
    )
    assert plain(said) in visible_text(privacy.text)
    assert privacy.text.count("<li>") >= 4  # its bullets a list, right-to-left ones too
    assert plain(cat.t("legal.terms")) in visible_text(terms.text)
    assert f'href="/terms?lang={language}"' in privacy.text


@pytest.mark.parametrize(
    ("asked", "header", "expected"),
    [
        ("ro", "en", "ro"),
        (None, "ro-RO,ro;q=0.9,en;q=0.5", "ro"),
        (None, "de-DE, fa;q=0.4, en;q=0.6", "en"),
        (None, "fa;q=0.7, ro;q=0.9", "ro"),
        (None, "ro;q=0, fa", "fa"),
        ("xx", "de", "en"),
        (None, None, "en"),
        (None, "ro;q=not-a-number", "en"),
    ],
)
def test_the_page_language_follows_lang_then_accept_language(
    asked: str | None, header: str | None, expected: str
) -> None:
    assert language(asked, header, ("en", "fa", "ro")) == expected
