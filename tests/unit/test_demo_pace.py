"""The demo's simulated world: compliments and kudos for the person at the console, @names in
the composer, and DemoPhone keeping calls off an agent on a break."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs

import pytest

from bot.i18n import catalogue
from bot.recovery.phone import PhoneStatus, StatusChanged
from handlers.sandbox.demo_pace import FIRST_COMPLIMENT, Colleagues, demo_events
from handlers.sandbox.mentions import resolve_mentions
from handlers.sandbox.phone import DemoPhone

PEOPLE = [("ana@example.com", "Ana Popescu"), ("bob@example.com", "Bob Stan"), ("cy@example.com", "Cy Pop")]
IDS = {"ana@example.com": "U0ANA", "bob@example.com": "U0BOB", "cy@example.com": "U0CY"}


def events(**options: object) -> list[dict[str, object]]:
    settings: dict[str, object] = {
        "cat": catalogue("en"),
        "count": 200,
        "first_hard": True,
        "may_take_calls": lambda email: True,
        "favourite": lambda: None,
        "seed": 3,
    }
    settings.update(options)
    return list(demo_events(PEOPLE, **settings))  # type: ignore[arg-type]


def test_a_compliment_comes_early_and_goes_to_the_agent_being_watched() -> None:
    stream = events(favourite=lambda: "cy@example.com")
    compliments = [e for e in stream if e["type"] == "feedback"]
    assert stream.index(compliments[0]) == FIRST_COMPLIMENT - 1
    assert len(compliments) == 4 and {c["agent_email"] for c in compliments} == {"cy@example.com"}
    assert all(c["rating"] == "good" and "Cy" in str(c["comment"]) for c in compliments)
    assert stream[0]["type"] == "call.ended"


def test_no_calls_reach_an_agent_whose_phone_says_they_are_on_a_break() -> None:
    stream = events(may_take_calls=lambda email: email != "ana@example.com")
    calls = [e for e in stream if e["type"] != "feedback"]
    assert calls and "ana@example.com" not in {c["agent_email"] for c in calls}


def kudos_sent(favourite: str | None, watched: set[str], times: int = 20) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []

    def send(body: str) -> None:
        form = {key: values[0] for key, values in parse_qs(body).items()}
        assert form["command"] == "/kudos"
        sent.append((form["user_id"], form["text"]))

    colleagues = Colleagues(
        people=[(email, name, IDS[email]) for email, name in PEOPLE],
        cat=catalogue("en"),
        send=send,
        running=lambda: True,
        favourite=lambda: favourite,
        watched=lambda email: email in watched,
        stop=threading.Event(),
        seed=1,
    )
    for _ in range(times):
        colleagues.thank_someone()
    return sent


def test_kudos_go_to_the_watched_agent_from_team_mates_nobody_is_playing() -> None:
    sent = kudos_sent("ana@example.com", watched={"ana@example.com", "bob@example.com"})
    assert sent and {sender for sender, _ in sent} == {"U0CY"}
    assert all(text.startswith("<@U0ANA> ") for _, text in sent)


def test_without_anyone_watching_kudos_go_round_the_team_never_to_oneself() -> None:
    sent = kudos_sent(None, watched=set())
    recipients = {text.split(">", 1)[0][2:] for _, text in sent}
    assert len(recipients) > 1
    assert all(not text.startswith(f"<@{sender}>") for sender, text in sent)


PEOPLE_IDS = [("U0ANA", "ana@example.com", "Ana Popescu"), ("U0ANDA", "anda@example.com", "Ana Dobre")]


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("@anda thanks", "<@U0ANDA|anda> thanks"),
        ("@Ana.Popescu thanks", "<@U0ANA|Ana.Popescu> thanks"),
        ("@AnaDobre, thanks!", "<@U0ANDA|AnaDobre>, thanks!"),
        ("@ana thanks", "<@U0ANA|ana> thanks"),  # her address, though two people are called Ana
        ("@Ana thanks", "<@U0ANA|Ana> thanks"),  # case does not matter, as in Slack
        ("@nobody thanks", "@nobody thanks"),
        ("mail anda@example.com", "mail anda@example.com"),
        ("<@U0ANA> already", "<@U0ANA> already"),
        ("@here hi", "@here hi"),
    ],
)
def test_at_names_in_the_composer_become_mentions_of_the_one_person_they_name(typed: str, sent: str) -> None:
    assert resolve_mentions(typed, PEOPLE_IDS) == sent


def test_a_first_name_two_people_share_stays_as_typed() -> None:
    people = [("U1", "ana.p@example.com", "Ana Popescu"), ("U2", "ana.d@example.com", "Ana Dobre")]
    assert resolve_mentions("@Ana thanks", people) == "@Ana thanks"


def test_demo_phone_sets_a_break_and_lets_the_agents_own_change_win() -> None:
    changes: list[str] = []
    phone = DemoPhone(on_change=lambda: changes.append("changed"))
    before = phone.read_status("1001")
    assert before.value == "available"
    on_break = phone.set_break("1001")
    assert phone.status_of("1001") == "unavailable" == phone.read_status("1001").value

    phone.set_status("1001", before, expected=on_break)
    assert phone.status_of("1001") == "available"

    phone.set_break("1001")
    phone.set_status("1001", PhoneStatus("available"))  # the agent, by hand
    with pytest.raises(StatusChanged):
        phone.set_status("1001", before, expected=on_break)
    assert len(changes) == 4  # each change told the console
