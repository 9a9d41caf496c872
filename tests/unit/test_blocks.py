"""Block Kit builders are pure; the check-in is compared with a reviewed golden file."""

from __future__ import annotations

import json
from pathlib import Path

from bot.checkins.messages import checkin_answered, checkin_prompt
from bot.i18n import catalogue
from bot.ids import CheckinAnswer
from handlers.slack.blocks import message_blocks

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"


def test_checkin_prompt_matches_the_golden_block_kit() -> None:
    message = checkin_prompt(
        catalogue("en"), checkin_id="c0ffee", signals=["abuse", "transfers"], break_minutes=5, transfers=3
    )
    expected = json.loads((GOLDEN / "checkin_prompt.json").read_text())
    assert {"text": message.text, "blocks": message_blocks(message)} == expected


def test_the_break_label_follows_the_configured_minutes() -> None:
    message = checkin_prompt(
        catalogue("en"), checkin_id="x", signals=["abuse"], break_minutes=0.5, transfers=None
    )
    labels = [
        e["text"]["text"] for b in message_blocks(message) if b["type"] == "actions" for e in b["elements"]
    ]
    assert labels[1] == "Take a 0.5-minute breather"


def test_an_answered_checkin_has_no_buttons_left() -> None:
    message = checkin_answered(catalogue("en"), answer=CheckinAnswer.TALK, break_minutes=5)
    blocks = message_blocks(message)
    assert all(b["type"] != "actions" for b in blocks)
    assert "You answered: Talk to someone" in json.dumps(blocks)
