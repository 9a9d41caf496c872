"""`breather teams package`: a zip Teams accepts, built from settings, with clear refusals."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.errors import ConfigError
from bot.i18n import catalogue
from handlers.teams.package import MANIFEST_VERSION, MAX_COMMANDS, PackageInfo, manifest, package

APP_ID = "0D3C2B1A-1111-2222-3333-444455556666"
INFO = PackageInfo(
    app_id=APP_ID, public_url="https://breather.example.org/", version="1.0.0", developer="Acme"
)


def pixels(png: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of an unfiltered 8-bit RGBA PNG (what the package writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data, width, height = 8, b"", 0, 0
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        body = png[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 6)
        elif kind == b"IDAT":
            data += body
        position += 12 + length
    raw = zlib.decompress(data)
    stride = width * 4 + 1
    found = []
    for row in range(height):
        line = raw[row * stride + 1 : (row + 1) * stride]
        found += [tuple(line[i : i + 4]) for i in range(0, len(line), 4)]
    return width, height, found  # type: ignore[return-value]


def test_the_manifest_describes_the_bot_from_settings() -> None:
    document = manifest(INFO, catalogue("en"))
    app_id = APP_ID.lower()
    assert document["manifestVersion"] == MANIFEST_VERSION and MANIFEST_VERSION in document["$schema"]
    assert document["id"] == app_id and document["version"] == "1.0.0"
    (bot,) = document["bots"]
    assert bot["botId"] == app_id and bot["scopes"] == ["personal", "team"]
    personal, team = bot["commandLists"]
    assert personal["scopes"] == ["personal"] and team["scopes"] == ["team"]
    titles = [c["title"] for c in personal["commands"]]
    for word in ("help", "pause", "privacy", "language", "digest"):
        assert f"breather {word}" in titles
    assert "kudos" in titles and "kudos" in [c["title"] for c in team["commands"]]
    assert document["validDomains"] == ["breather.example.org"]
    assert document["webApplicationInfo"] == {"id": app_id}
    assert document["developer"]["privacyUrl"] == "https://breather.example.org/privacy"
    assert document["icons"] == {"color": "color.png", "outline": "outline.png"}
    (extension,) = document["composeExtensions"]
    assert extension["botId"] == app_id
    assert [(c["id"], c["type"], c["context"], c["fetchTask"]) for c in extension["commands"]] == [
        ("compliment_from_message", "action", ["message"], True),  # Slack's message shortcut ids
        ("compliment_remove_post", "action", ["message"], True),
    ]


def test_the_manifest_keeps_within_teams_limits() -> None:
    document = manifest(INFO, catalogue("en"))
    assert len(document["name"]["short"]) <= 30 and len(document["name"]["full"]) <= 100
    assert len(document["description"]["short"]) <= 80 and len(document["description"]["full"]) <= 4000
    for command_list in document["bots"][0]["commandLists"]:
        assert len(command_list["commands"]) <= MAX_COMMANDS == 10
        for command in command_list["commands"]:
            assert len(command["title"]) <= 32 and len(command["description"]) <= 128
    for command in document["composeExtensions"][0]["commands"]:
        assert len(command["title"]) <= 32 and len(command["description"]) <= 128


@pytest.mark.parametrize("language", ["en", "ro", "fa"])
def test_the_language_command_is_in_the_personal_menu_within_the_ten_a_list_holds(language: str) -> None:
    """`breather language` is suggested like the other commands (issue 14); to stay within 10,
    `resume` gives way (the pause reply and the home card's button lead to it)."""
    personal, _ = manifest(INFO, catalogue(language))["bots"][0]["commandLists"]
    titles = [c["title"] for c in personal["commands"]]
    assert len(titles) == MAX_COMMANDS
    assert "breather language" in titles and "breather resume" not in titles
    (described,) = [c["description"] for c in personal["commands"] if c["title"] == "breather language"]
    assert described == catalogue(language).t("teams.manifest.command.language")
    assert described.lstrip("\u200f").startswith("language ")
    assert all(code in described for code in ("en", "ro", "fa"))


def test_the_zip_holds_the_manifest_and_both_icons_at_its_root() -> None:
    archive = zipfile.ZipFile(io.BytesIO(package(INFO, catalogue("en"))))
    assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
    assert json.loads(archive.read("manifest.json"))["id"] == APP_ID.lower()
    width, height, colour = pixels(archive.read("color.png"))
    assert (width, height) == (192, 192) and all(p[3] == 255 for p in colour)
    width, height, outline = pixels(archive.read("outline.png"))
    assert (width, height) == (32, 32)
    # Teams wants the outline white on transparent: every pixel is one or the other.
    assert set(outline) <= {(255, 255, 255, 255), (0, 0, 0, 0)}
    assert (0, 0, 0, 0) in outline and (255, 255, 255, 255) in outline


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"app_id": ""}, "TEAMS_APP_ID: required"),
        ({"app_id": "not-a-guid"}, "TEAMS_APP_ID: must be a GUID"),
        ({"public_url": "http://127.0.0.1:3000"}, "BREATHER_PUBLIC_URL: must be an https address"),
        ({"version": "1.0"}, "--version"),
        ({"privacy_url": "http://x.example"}, "--privacy-url"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(change: dict[str, str], setting: str) -> None:
    info = PackageInfo(**{**INFO.__dict__, **change})
    with pytest.raises(ConfigError, match=setting):
        manifest(info, catalogue("en"))


def test_the_command_writes_the_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    monkeypatch.setenv("BREATHER_PUBLIC_URL", "https://breather.example.org")
    target = tmp_path / "out.zip"
    result = CliRunner().invoke(cli, ["teams", "package", "--output", str(target), "--version", "1.2.3"])
    assert result.exit_code == 0, result.output
    manifest_json = json.loads(zipfile.ZipFile(target).read("manifest.json"))
    assert manifest_json["version"] == "1.2.3"


def test_the_command_names_a_missing_setting_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["teams", "package", "--output", str(tmp_path / "x.zip")])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: TEAMS_APP_ID: required")
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.zip").exists()
