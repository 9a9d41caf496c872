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


def test_a_form_becomes_a_modal_and_its_submission_reads_back() -> None:
    from bot.messenger import ChoiceField, Form, Option, Text, TextField
    from handlers.slack.blocks import form_view, submitted_values

    form = Form(
        callback_id="pulse.survey",
        title="A one-minute check-in that is long",
        submit="Send",
        close="Not now",
        context="round-1",
        parts=(
            Text(text="Over the last two weeks..."),
            ChoiceField(
                id="who5_1",
                label="I have felt cheerful",
                options=(Option(value="5", label="All of the time"), Option(value="0", label="At no time")),
            ),
            TextField(id="note", label="Anything else?", optional=True, multiline=True),
        ),
    )
    view = form_view(form)
    assert view["type"] == "modal" and view["callback_id"] == "pulse.survey"
    assert view["private_metadata"] == "round-1"
    assert len(view["title"]["text"]) <= 24  # Slack's limit
    radios = view["blocks"][1]
    assert radios["type"] == "input" and radios["block_id"] == "who5_1"
    assert [o["value"] for o in radios["element"]["options"]] == ["5", "0"]
    state = {
        "values": {
            "who5_1": {"who5_1": {"type": "radio_buttons", "selected_option": {"value": "5"}}},
            "note": {"note": {"type": "plain_text_input", "value": "thanks"}},
        }
    }
    assert submitted_values({"state": state}) == {"who5_1": "5", "note": "thanks"}
    assert submitted_values({"state": {"values": {"who5_1": {"who5_1": {"selected_option": None}}}}}) == {}
