"""Each instrument's own words, per language: the original, and validated translations only.

`wording/<language>.yml` holds, per instrument id, the exact text of one published language
version and its `source`. An instrument is validated in a language when that language's file
has it; anywhere else it is shown in English, the original, whatever language the rest of the
interface speaks. The answer values come from `instruments.py`, never from these files, so
answers given in any language version are scored and aggregated the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from typing import Any

import yaml

from bot.surveys.instruments import InstrumentId

ORIGINAL = "en"


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


@dataclass(frozen=True)
class Wording:
    """One language version of one instrument."""

    instrument: InstrumentId
    language: str
    source: str
    texts: Mapping[str, str]  # "stem", "item.1", "scale.5", ... as in the file

    def t(self, key: str) -> str:
        return self.texts[key]


class Wordings:
    """Every language version found in one directory (the package's `wording/` by default)."""

    def __init__(self, directory: Traversable | None = None) -> None:
        folder = directory or resources.files(__package__).joinpath("wording")
        self._versions: dict[tuple[InstrumentId, str], Wording] = {}
        for path in folder.iterdir():
            if not path.name.endswith(".yml"):
                continue
            language = path.name[:-4]
            tree = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for name, section in tree.items():
                instrument = InstrumentId(name)
                texts = _flatten(section)
                source = texts.pop("source", "").strip()
                if not source:
                    raise ValueError(f"{path.name}: {name} has no source; only published versions go here")
                self._versions[(instrument, language)] = Wording(instrument, language, source, texts)

    def validated_languages(self, instrument: InstrumentId) -> frozenset[str]:
        return frozenset(language for (found, language) in self._versions if found is instrument)

    def version(self, instrument: InstrumentId, language: str) -> Wording:
        """The instrument in `language` if a validated version exists, else the English original."""
        return self._versions.get((instrument, language)) or self._versions[(instrument, ORIGINAL)]

    def versions(self) -> list[Wording]:
        return list(self._versions.values())


WORDINGS = Wordings()
