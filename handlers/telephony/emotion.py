"""Agent emotion data is refused at ingest, in every adapter.

Breather reads the *customer's* sentiment only. Contact-centre platforms also send analytics
about the agent: an agent sentiment score, an empathy score, the agent's talk "emotion" or
stress, per-participant sentiment where one participant is the agent. The EU AI Act
(Art. 5(1)(f)) forbids inferring employees' emotions at work, so Breather never reads them:
every adapter passes the payload it decoded through `without_agent_emotion` before it looks
at any field (`json_object` in base.py does it for JSON bodies), so such fields are gone
before anything is validated, scored or stored.

The test is on field names and on per-participant records, not on a list of vendors, so a new
adapter gets it by calling the helper:

- a key naming an emotion-like measure of the agent is dropped wherever it appears:
  empathy, emotion, stress, frustration, mood, affect (whoever they are about: Breather has
  no use for them), and sentiment / tone when the key also names the agent side (`agent`,
  `user`, `rep`, `employee`, `staff`, `worker`, `operator`, `internal`, `representative`);
- under a sentiment-like key, sub-keys naming the agent side are dropped
  (`{"OverallSentiment": {"AGENT": 2.1, "CUSTOMER": -3}}` keeps only the customer);
- a record that says it is about the agent (`participant_type`, `participantRole`, `role`,
  `purpose`, `speaker`, `participant`, `channel`, `side` equal to an agent-side word) loses its
  sentiment- and emotion-like keys.

Tags that name an agent's emotion (`agent frustrated`, `empathy-low`) are dropped the same way
(`agent_emotion_tag`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Words that always describe a person's emotional state or an inference about it.
_EMOTION = frozenset(
    {
        "empathy",
        "empathetic",
        "emotion",
        "emotions",
        "emotional",
        "stress",
        "stressed",
        "frustration",
        "frustrated",
        "mood",
        "affect",
        "affective",
        "anger",
        "angry",
    }
)
# Words that describe a feeling only when they are about someone: the agent here.
_FEELING = frozenset({"sentiment", "sentiments", "tone", "feeling", "feelings"})
_AGENT_SIDE = frozenset(
    {
        "agent",
        "agents",
        "user",
        "rep",
        "employee",
        "staff",
        "worker",
        "operator",
        "internal",
        "representative",
        "csr",
    }
)
_ROLE_KEYS = frozenset(
    {
        "participanttype",
        "participantrole",
        "role",
        "purpose",
        "speaker",
        "participant",
        "channel",
        "side",
        "participantpurpose",
        "speakertype",
    }
)

_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _words(name: str) -> list[str]:
    return [w for w in _SPLIT.split(_CAMEL.sub("_", name).lower()) if w]


def _squashed(name: str) -> str:
    return "".join(_words(name))


def names_agent_emotion(name: str) -> bool:
    """Whether a field (or tag) called `name` holds the agent's emotion, sentiment or empathy."""
    words = set(_words(name))
    if words & _EMOTION:
        return True
    return bool(words & _FEELING and words & _AGENT_SIDE)


def _feeling_like(name: str) -> bool:
    words = set(_words(name))
    return bool(words & (_FEELING | _EMOTION))


def _about_agent(record: dict[str, Any]) -> bool:
    for key, value in record.items():
        if _squashed(key) in _ROLE_KEYS and isinstance(value, str) and set(_words(value)) & _AGENT_SIDE:
            return True
    return False


def without_agent_emotion(data: Any) -> Any:
    """A copy of a decoded payload (dicts, lists, scalars) without anything about the agent's
    emotion, sentiment or empathy; everything else is unchanged."""
    if isinstance(data, list):
        return [without_agent_emotion(item) for item in data]
    if not isinstance(data, dict):
        return data
    agent_record = _about_agent(data)
    kept: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key)
        if names_agent_emotion(name) or (agent_record and _feeling_like(name)):
            continue
        if _feeling_like(name) and isinstance(value, dict):
            value = {k: v for k, v in value.items() if not set(_words(str(k))) & _AGENT_SIDE}
        kept[key] = without_agent_emotion(value)
    return kept


def agent_emotion_tag(tag: str) -> bool:
    """Whether a call tag names the agent's emotion (such tags are not kept)."""
    return names_agent_emotion(tag)


def without_agent_emotion_tags(tags: Iterable[str]) -> tuple[str, ...]:
    return tuple(tag for tag in tags if not agent_emotion_tag(tag))
