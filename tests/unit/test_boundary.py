"""The input boundary: every class of body it refuses, and what it lets through unchanged."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.errors import InvalidInput
from handlers.boundary import MAX_DEPTH, MAX_ECHO, NotJson, check_text, load_json, load_json_object
from handlers.slack.endpoint import check_slack_body


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b'{"n": ' + b"9" * 5000 + b"}", 400, "too long"),  # past int()'s digit limit
        (b'{"n": -' + b"9" * 65 + b"}", 400, "too long"),
        (b'{"n": 0.' + b"1" * 80 + b"}", 400, "too long"),
        (b'{"n": 1e999}', 400, "out of range"),
        (b'{"n": -1e999}', 400, "out of range"),
        (b'{"n": NaN}', 400, "NaN"),
        (b'{"n": Infinity}', 400, "Infinity"),
        (b'{"n": -Infinity}', 400, "Infinity"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "nested"),  # deep enough for a RecursionError
        (b'{"a": ' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1), 400, "nested"),
        (b'{"t": "caf\xe9"}', 400, "UTF-8"),  # Latin-1
        (b'\xef\xbb\xbf{"t": 1}', 400, "byte-order mark"),
        (b'{"t": "\\ud800"}', 422, "lone surrogate"),
        (b'{"t": "\\udfff x"}', 422, "lone surrogate"),
        (b'{"\\ud800": 1}', 422, "lone surrogate"),
        (b'{"t": "a\\u0000b"}', 422, "NUL"),
        (b'{"t": "bell\\u0007"}', 422, "control character"),
        (b'{"t": "esc\\u001b[31m"}', 422, "control character"),
        (b'{"t": "\\u007f"}', 422, "control character"),
        (b'{"t": "raw\ttab"}', 400, "not valid JSON"),  # strict: raw controls are not JSON
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "not valid JSON"),
    ],
)
def test_bodies_that_cannot_be_used_are_refused_with_a_reason(body: bytes, status: int, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_json(body)
    assert caught.value.status == status
    assert words in str(caught.value)


def test_what_real_payloads_carry_goes_through_unchanged() -> None:
    data = {
        "id": 18446744073709551615,
        "score": -0.25,
        "text": "Ana was kind 😀 — مرسی — mulțumesc\nsecond line\ttab",
        "nested": [[[{"deep": True}]]],
        "none": None,
    }
    assert load_json(json.dumps(data).encode()) == data
    assert load_json(json.dumps(data, ensure_ascii=False).encode()) == data  # a pair, not escapes
    deep: dict[str, Any] = {"a": 1}
    for _ in range(MAX_DEPTH - 1):
        deep = {"a": deep}
    assert load_json(json.dumps(deep)) == deep


def test_raw_line_breaks_are_allowed_when_asked_but_the_text_rule_still_holds() -> None:
    assert load_json('{"t": "line\nbreak"}', strict=False) == {"t": "line\nbreak"}
    with pytest.raises(InvalidInput, match="control character"):
        load_json('{"t": "bell\x07"}', strict=False)


def test_an_object_is_required_where_an_object_is_expected() -> None:
    with pytest.raises(InvalidInput, match="JSON object"):
        load_json_object(b"[1, 2]")
    with pytest.raises(NotJson):
        load_json_object(b"{")


def test_form_text_follows_the_same_rule() -> None:
    assert check_text("pause 2h", "text") == "pause 2h"
    with pytest.raises(InvalidInput, match="text: has a lone surrogate"):
        check_text("thanks \udc00", "text")


def test_a_refusal_echoes_the_senders_names_short_and_escaped() -> None:
    long_key = "k" * 5000
    body = json.dumps({long_key: {"x" * 300: {"bad\u0007": 1}}, "ok": 1})
    with pytest.raises(InvalidInput) as caught:
        load_json(body)
    said = str(caught.value)
    assert said == f"a key in {'k' * (MAX_ECHO - 10)}…: has a control character"
    with pytest.raises(InvalidInput) as caught:
        check_slack_body(("\u202e" * 3000 + "=bell%07").encode(), "application/x-www-form-urlencoded")
    said = str(caught.value)
    assert said.startswith("\\u202e\\u202e") and said.endswith("…: has a control character")
    assert len(said) <= MAX_ECHO + len(": has a control character")
