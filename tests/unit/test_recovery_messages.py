"""Who an agent may ask to talk to, and how the choice and the break times are shown."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import yaml

from bot.config import BreatherConfig, SupportResource
from bot.i18n import catalogue
from bot.messenger import ChatPlatform
from bot.pseudonyms import Keyring
from bot.recovery.messages import break_capped, local_clock, talk_form
from bot.recovery.talk import lead_ref, talk_choices
from bot.roster import Roster
from handlers.slack.blocks import form_view
from tests.conftest import PSEUDONYM_KEY, ROSTER


def roster(**team_changes: object) -> Roster:
    data = yaml.safe_load(ROSTER.read_text())
    data["teams"][0].update(team_changes)
    config = BreatherConfig.model_validate(data)
    ids = {a.email: uuid.uuid4().hex for t in config.teams for a in t.agents}
    return Roster(config, ids, Keyring(PSEUDONYM_KEY.encode()))


def test_choices_are_leads_then_team_mates_then_support_and_never_the_agent() -> None:
    people = roster(managers=["radu@example.com", "dana@example.com"])
    ana = people.find("email", "ana@example.com")
    assert ana is not None
    choices = talk_choices(ana, people, [SupportResource(name="Helpline", contact="0800")])
    assert [(c.kind, c.name) for c in choices] == [
        ("lead", "Radu"),
        ("lead", "Dana"),  # a lead who is also an agent appears once, as the lead
        ("mate", "Bob Stan"),
        ("mate", "Cris"),
        ("mate", "Emil"),
        ("support", "Helpline"),
    ]
    assert all("@" not in c.value for c in choices)  # no address travels through the client


def test_a_lead_asking_for_a_chat_is_not_offered_to_themselves() -> None:
    people = roster(managers=["ana@example.com"])
    ana = people.find("email", "ana@example.com")
    assert ana is not None
    assert [c.kind for c in talk_choices(ana, people, [])] == ["mate", "mate", "mate", "mate"]


def test_a_lead_off_the_roster_is_reached_by_email_without_a_stored_address() -> None:
    ref, name = lead_ref("jo.lead@example.com", roster())
    assert (ref.email, ref.on_roster, name) == ("jo.lead@example.com", False, "Jo Lead")
    agent_ref, _ = lead_ref("dana@example.com", roster())
    assert agent_ref.on_roster and agent_ref.user_id_on(ChatPlatform.SLACK) == "U0DANA"


def test_a_long_list_of_people_becomes_a_menu_in_slack() -> None:
    agents = [{"email": f"agent{n}@example.com"} for n in range(14)]
    people = roster(agents=[{"email": "ana@example.com", "slack_user_id": "U0ANA"}, *agents])
    ana = people.find("email", "ana@example.com")
    assert ana is not None
    cat = catalogue("en")
    many = form_view(talk_form(cat, checkin_id="c1", choices=talk_choices(ana, people, []), resources=[]))
    few = form_view(talk_form(cat, checkin_id="c1", choices=talk_choices(ana, people, [])[:3], resources=[]))
    (menu,) = [b["element"] for b in many["blocks"] if b["type"] == "input"]
    (radios,) = [b["element"] for b in few["blocks"] if b["type"] == "input"]
    assert menu["type"] == "static_select" and len(menu["options"]) == 15  # the lead and 14 agents
    assert menu["placeholder"]["text"] == "Choose someone"
    assert radios["type"] == "radio_buttons"
    assert many["private_metadata"] == "c1" and many["callback_id"] == "recovery.talk"


def test_break_end_is_shown_on_the_teams_wall_clock() -> None:
    moment = datetime(2026, 11, 23, 12, 35, tzinfo=UTC)
    assert local_clock(catalogue("en"), moment, ZoneInfo("Europe/Bucharest")) == "14:35"
    assert local_clock(catalogue("en"), moment, ZoneInfo("America/Toronto")) == "07:35"
    assert local_clock(catalogue("fa"), moment, ZoneInfo("Asia/Tehran")) == "۱۶:۰۵"  # +03:30


def test_the_daily_cap_reads_naturally_for_one_break_and_for_several() -> None:
    cat = catalogue("en")
    one = break_capped(cat, taken=1, break_minutes=5).text
    several = break_capped(cat, taken=3, break_minutes=5).text
    assert one.startswith("You've had one breather with me today,") and "1 breathers" not in one
    assert several.startswith("You've had 3 breathers with me today,")
