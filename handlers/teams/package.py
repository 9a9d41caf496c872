"""The Teams app package: manifest.json and two icons in a zip, built from settings.

An admin uploads it to the organisation's Teams app catalogue (or a developer sideloads it).
The bot id is the Entra app registration's client id (TEAMS_APP_ID); Teams only lets the app
call back to the host of BREATHER_PUBLIC_URL. The icons are drawn here, so the package needs
no files from outside: a colour icon (192 x 192) and a white-on-transparent outline (32 x 32).
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.errors import ConfigError
from bot.i18n import Catalogue
from bot.ids import CallbackId

MANIFEST_VERSION = "1.22"
SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
ACCENT = (0x2E, 0x7D, 0x6B)  # Breather's teal
COLOR_SIZE, OUTLINE_SIZE = 192, 32
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")

# What people can type, as the compose box suggests it (Teams has no slash commands for bots).
# A list holds at most 10 commands (MAX_COMMANDS, kudos included). `resume` is left out of the
# menu to make room for `language`: the pause reply names it, and the home card has its button.
PERSONAL_COMMANDS = ("help", "pause", "away", "buddy", "pairing", "privacy", "language", "home", "digest")
TEAM_COMMANDS = ("help",)
MAX_COMMANDS = 10  # per command list (scope) in Teams' bot menu

Pixel = tuple[int, int, int, int]


@dataclass(frozen=True)
class PackageInfo:
    app_id: str
    public_url: str
    version: str
    developer: str
    website_url: str | None = None
    privacy_url: str | None = None
    terms_url: str | None = None


def _https(url: str, setting: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(f"{setting}: must be an https address Teams can reach (got {url!r})")
    return url.rstrip("/")


def check(info: PackageInfo) -> PackageInfo:
    """Refuse settings Teams would refuse, naming the setting."""
    if not info.app_id:
        raise ConfigError(
            "TEAMS_APP_ID: required to build the Teams app package "
            "(the Application (client) ID of Breather's Entra app registration)"
        )
    if not _GUID.match(info.app_id):
        raise ConfigError("TEAMS_APP_ID: must be a GUID such as 00000000-0000-0000-0000-000000000000")
    if not _VERSION.match(info.version):
        raise ConfigError(f"--version: must look like 1.2.3 (got {info.version!r})")
    public = _https(info.public_url, "BREATHER_PUBLIC_URL")
    return PackageInfo(
        app_id=info.app_id.lower(),
        public_url=public,
        version=info.version,
        developer=info.developer,
        website_url=_https(info.website_url, "--website-url") if info.website_url else public,
        privacy_url=_https(info.privacy_url, "--privacy-url") if info.privacy_url else f"{public}/privacy",
        terms_url=_https(info.terms_url, "--terms-url") if info.terms_url else f"{public}/terms",
    )


def _command(cat: Catalogue, word: str, title: str) -> dict[str, str]:
    return {"title": title, "description": cat.t(f"teams.manifest.command.{word}")}


def _message_action(cat: Catalogue, command: CallbackId, word: str) -> dict[str, Any]:
    return {
        "id": command.value,
        "type": "action",
        "context": ["message"],
        "fetchTask": True,
        "title": cat.t(f"teams.manifest.message_action.{word}_title"),
        "description": cat.t(f"teams.manifest.message_action.{word}_description"),
    }


def manifest(info: PackageInfo, cat: Catalogue) -> dict[str, Any]:
    info = check(info)
    host = urlsplit(info.public_url).hostname
    personal = [_command(cat, word, f"breather {word}") for word in PERSONAL_COMMANDS]
    team = [_command(cat, word, f"breather {word}") for word in TEAM_COMMANDS]
    kudos = _command(cat, "kudos", "kudos")
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": info.version,
        "id": info.app_id,
        "developer": {
            "name": info.developer,
            "websiteUrl": info.website_url,
            "privacyUrl": info.privacy_url,
            "termsOfUseUrl": info.terms_url,
        },
        "name": {"short": cat.t("teams.manifest.short_name"), "full": cat.t("teams.manifest.full_name")},
        "description": {
            "short": cat.t("teams.manifest.short_description"),
            "full": cat.t("teams.manifest.full_description"),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": info.app_id,
                "scopes": ["personal", "team"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": [*personal, kudos]},
                    {"scopes": ["team"], "commands": [*team, kudos]},
                ],
            }
        ],
        # Message actions: Slack's message shortcuts, in the "…" menu of a message.
        "composeExtensions": [
            {
                "botId": info.app_id,
                "commands": [
                    _message_action(cat, CallbackId.SHARE_AS_COMPLIMENT, "share"),
                    _message_action(cat, CallbackId.REMOVE_COMPLIMENT, "remove"),
                ],
            }
        ],
        "validDomains": [host],
        # Lets the app install itself for users through Microsoft Graph (docs/teams.md, pre-install).
        "webApplicationInfo": {"id": info.app_id},
    }


# --- icons ----------------------------------------------------------------------------------


def png(size: int, paint: Callable[[float, float], Pixel]) -> bytes:
    """A square RGBA PNG; `paint` gets each pixel's centre as fractions of the side (0..1)."""
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # no filter
        for x in range(size):
            rows.extend(paint((x + 0.5) / size, (y + 0.5) / size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _breath_mark(x: float, y: float) -> float:
    """How much of the mark covers a point: a ring with a dot, a breath drawn in and let go."""
    distance = math.hypot(x - 0.5, y - 0.5)
    ring = abs(distance - 0.3) < 0.055
    dot = distance < 0.1
    return 1.0 if ring or dot else 0.0


def color_icon() -> bytes:
    white: Pixel = (255, 255, 255, 255)
    accent: Pixel = (*ACCENT, 255)
    return png(COLOR_SIZE, lambda x, y: white if _breath_mark(x, y) else accent)


def outline_icon() -> bytes:
    # Teams requires the outline icon to be white on a transparent background.
    return png(OUTLINE_SIZE, lambda x, y: (255, 255, 255, 255) if _breath_mark(x, y) else (0, 0, 0, 0))


def package(info: PackageInfo, cat: Catalogue) -> bytes:
    """The zip to upload: manifest.json and the two icons at its root."""
    document = json.dumps(manifest(info, cat), indent=2, ensure_ascii=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", document)
        archive.writestr("color.png", color_icon())
        archive.writestr("outline.png", outline_icon())
    return buffer.getvalue()
