"""Adaptive Card builders are pure, speak the same interaction ids as Block Kit, and show other
people's words exactly as written; the check-in card is compared with a reviewed golden file."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from bot.checkins.messages import checkin_answered, checkin_prompt
from bot.compliments.messages import consent_prompt, recipient_form
from bot.config import ProductSettings
from bot.home.views import home_view
from bot.i18n import catalogue
from bot.ids import CheckinAnswer
from bot.messenger import (
    Button,
    Buttons,
    ChoiceField,
    Credit,
    Divider,
    Form,
    Mention,
    Message,
    Note,
    Option,
    Quote,
    Text,
    TextField,
)
from bot.surveys.messages import invitation, survey_form, thanks_form
from handlers.slack.blocks import home_view as slack_home_view
from handlers.slack.blocks import message_blocks
from handlers.teams.cards import (
    form_card,
    home_card,
    image_card,
    markdown,
    message_card,
    submitted_values,
)
from tests.helpers import action_ids
from tests.teams_harness import card_actions, card_text, inputs, verbs

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
EN = catalogue("en")


def test_checkin_card_matches_the_golden_adaptive_card() -> None:
    message = checkin_prompt(
        EN, checkin_id="c0ffee", signals=["abuse", "transfers"], break_minutes=5, transfers=3
    )
    expected = json.loads((GOLDEN / "checkin_card.json").read_text())
    assert message_card(message) == expected


def _messages() -> list[Message]:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    return [
        checkin_prompt(EN, checkin_id="c1", signals=["abuse"], break_minutes=5, transfers=None),
        checkin_answered(EN, answer=CheckinAnswer.OK, break_minutes=5),
        invitation(
            EN,
            invitation_id="inv-1",
            closes_at=datetime(2026, 11, 29, tzinfo=UTC),
            zone=ZoneInfo("Europe/Bucharest"),
            min_group=5,
        ),
        consent_prompt(EN, compliment_id="cmp-1", text="Ana was great", consent_hours=24),
    ]


@pytest.mark.parametrize("message", _messages(), ids=["checkin", "answered", "invitation", "compliment"])
def test_cards_use_the_same_interaction_ids_and_values_as_block_kit(message: Message) -> None:
    card = message_card(message)
    blocks = message_blocks(message)
    assert verbs(card) == action_ids(blocks)
    slack_values = [e.get("value", "") for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [a["data"]["value"] for a in card_actions(card)] == slack_values
    assert [a["data"]["action"] for a in card_actions(card)] == verbs(card)  # the SDK routes by data.action


def test_the_home_card_has_the_home_tabs_switches() -> None:
    view = home_view(EN, ProductSettings(), paused=True, surveys_on=True, results=[], zone=_zone())
    card = home_card(view)
    slack = slack_home_view(view)
    languages = ["home.language.en", "home.language.fa", "home.language.ro"]
    expected = ["home.resume", "home.surveys_off", "home.buddy_on", *languages]
    assert verbs(card) == action_ids(slack["blocks"]) == expected
    assert "Check-ins are **paused**" in card_text(card)


def _zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("catalogue_text", "teams_text"),
    [
        ("Check-ins are *on*.", "Check-ins are **on**."),
        ("Type `/breather resume` to turn them back on.", "Type /breather resume to turn them back on."),
        ("*Who can see what*\n• one\n• two", "**Who can see what**\n\n• one\n\n• two"),
        ("2 * 3 * 4 stays as it is", "2 * 3 * 4 stays as it is"),
        ("_gently_", "_gently_"),
    ],
)
def test_catalogue_markup_becomes_teams_markdown(catalogue_text: str, teams_text: str) -> None:
    assert markdown(catalogue_text) == teams_text


def test_quoted_words_are_a_text_run_so_nothing_in_them_is_rendered() -> None:
    words = "**not bold** [a link](https://evil.example) <at>Everyone</at> _x_"
    card = message_card(Message(text="t", parts=(Quote(text=words),)))
    (container,) = card["body"]
    (rich,) = container["items"]
    assert rich["type"] == "RichTextBlock" and rich["inlines"] == [
        {"type": "TextRun", "text": words, "italic": True}
    ]
    assert "msteams" not in card  # no mention entity: nobody is pinged


def test_credits_mention_people_teams_knows_and_name_the_others() -> None:
    known = Mention(name="Ana Popescu", user_id="29:ana")
    unknown = Mention(name="Bob_the *builder*")
    card = message_card(Message(text="t", parts=(Credit(text="{0} thanked {1}", mentions=(known, unknown)),)))
    assert card["body"][0]["text"] == "<at>Ana Popescu</at> thanked Bob\\_the \\*builder\\*"
    assert card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>Ana Popescu</at>",
            "mentioned": {"id": "29:ana", "name": "Ana Popescu"},
        }
    ]


def test_a_divider_becomes_a_separator_above_the_next_element() -> None:
    parts = (Text(text="one"), Divider(), Note(text="two"))
    body = message_card(Message(text="t", parts=parts))["body"]
    assert len(body) == 2 and "separator" not in body[0] and body[1]["separator"] is True


def test_button_styles_map_to_adaptive_card_styles() -> None:
    buttons = Buttons(
        block_id="b",
        buttons=(
            Button(action="a.one", label="Yes", value="1", style="primary"),
            Button(action="a.two", label="No", value="2", style="danger"),
            Button(action="a.three", label="Later", value="3"),
        ),
    )
    actions = card_actions(message_card(Message(text="t", parts=(buttons,))))
    assert [a.get("style") for a in actions] == ["positive", "destructive", None]
    assert all(a["type"] == "Action.Execute" for a in actions)


def test_a_survey_form_becomes_a_card_with_required_radio_inputs_and_a_submit_verb() -> None:
    form = survey_form(EN, instruments=["who5", "burnout_single"], context="inv-1|a:1ana|act-1")
    card = form_card(form, required="Please answer this one.")
    fields = inputs(card)
    assert [f["id"] for f in fields] == ["who5_1", "who5_2", "who5_3", "who5_4", "who5_5", "burnout_single_1"]
    assert all(f["type"] == "Input.ChoiceSet" and f["style"] == "expanded" for f in fields)
    assert all(f["isRequired"] and f["errorMessage"] == "Please answer this one." for f in fields)
    (submit,) = card_actions(card)
    assert submit["verb"] == "pulse.survey" and submit["associatedInputs"] == "auto"
    assert submit["data"] == {"action": "pulse.survey", "context": "inv-1|a:1ana|act-1"}
    assert card["body"][0]["text"] == EN.t("pulse.form_title")


def test_a_read_only_form_has_nothing_to_press() -> None:
    card = form_card(thanks_form(EN, text="Thank you."), required="x")
    assert card_actions(card) == [] and "Thank you." in card_text(card)


def test_long_choices_become_a_drop_down_and_optional_text_is_not_required() -> None:
    many = tuple(Option(value=str(n), label=f"Person {n}") for n in range(12))
    form = Form(
        callback_id="recovery.talk",
        title="Talk",
        submit="Send",
        close="Cancel",
        parts=(
            ChoiceField(id="person", label="Who?", options=many, initial="3"),
            TextField(id="note", label="Note", optional=True, multiline=True, max_length=200),
        ),
    )
    choice, note = inputs(form_card(form, required="!"))
    assert choice["style"] == "compact" and choice["value"] == "3"
    assert note == {
        "type": "Input.Text",
        "id": "note",
        "label": "Note",
        "isMultiline": True,
        "maxLength": 200,
    }


def test_a_person_field_is_teams_people_picker() -> None:
    form = recipient_form(EN, text="Great work", source="19:abc|act-9")
    (picker,) = inputs(form_card(form, required="!"))
    assert picker["choices.data"] == {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
    assert picker["id"] == "recipient" and picker["isMultiSelect"] is False


def test_submitted_values_are_the_inputs_without_breathers_own_keys() -> None:
    data = {"action": "pulse.survey", "context": "x", "value": "y", "who5_1": "5", "count": 3, "flag": True}
    assert submitted_values(data | {"msteams": {"x": 1}, "nested": {"a": 1}}) == {"who5_1": "5", "count": "3"}


def test_a_chart_travels_inline_as_a_data_url() -> None:
    png = b"\x89PNG\r\n\x1a\nrest"
    card = image_card(title="Billing: the last 12 weeks", alt="Line charts", png=png)
    image = card["body"][1]
    assert image["url"] == "data:image/png;base64," + base64.b64encode(png).decode()
    assert image["altText"] == "Line charts" and card["fallbackText"] == "Billing: the last 12 weeks"


def test_every_card_declares_a_version_that_supports_action_execute() -> None:
    card = message_card(_messages()[0])
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
