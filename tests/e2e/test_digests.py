"""Digests for team leads end to end: figures, suppression, access, chart, weekly DM, surge, and
the hard wall (no manager-facing output names a person or describes fewer than k people)."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from bot.app import create_app, make_messenger
from bot.cli import app as cli
from bot.container import Services
from bot.digests.chart import ChartText, preload, trend_figure, trend_png
from bot.digests.messages import chart_text
from bot.digests.model import Calls, Digest, Figure, Headcount, Period, Reason, Suppressed, Wellbeing
from bot.i18n import catalogue
from storage.db import make_engine, session_scope
from storage.models import AgentPrefs, Compliment, ComplimentStatus, DigestAccess, DigestRelease
from tests.conftest import PSEUDONYM_KEY, SIGNING_SECRET, Harness, MakeSettings
from tests.digest_seed import NOW, WEEK, add_calls, add_checkins, add_round, at
from tests.fakes.slack_api import FakeSlack
from tests.helpers import Clock, roster_with, settled

LEAD = "radu@example.com"


@pytest.fixture
def lead_slack(fake_slack: FakeSlack) -> FakeSlack:
    fake_slack.add_user("U0RADU", LEAD)
    fake_slack.add_user("U0JO", "jo@example.com")
    return fake_slack


@contextmanager
def digest_app(
    make_settings: MakeSettings, slack: FakeSlack, tmp_path: Path, **product: Any
) -> Iterator[Harness]:
    """The app on the seeded week's clock; jo leads the night desk, radu billing."""
    config = roster_with(tmp_path, teams={"nights": {"managers": ["jo@example.com"]}}, **product)
    settings = make_settings(config_path=config)
    engine = make_engine(settings.database_url)
    services = Services(settings, engine, make_messenger(settings, engine), clock=Clock(NOW))
    app = create_app(settings, services=services)
    try:
        with TestClient(app) as client:
            yield Harness(client, services, slack)
    finally:
        engine.dispose()


@pytest.fixture
def digests(make_settings: MakeSettings, lead_slack: FakeSlack, tmp_path: Path) -> Iterator[Harness]:
    with digest_app(make_settings, lead_slack, tmp_path) as harness:
        yield harness


def people(harness: Harness, team: str = "billing") -> list[str]:
    return [a.pseudonym for a in harness.services.roster.agents() if a.team.id == team]


def seed_full_week(harness: Harness, *, respondents: int = 5) -> None:
    team = people(harness)
    with session_scope(harness.services.engine) as session:
        add_calls(session, "billing", team, day=WEEK + timedelta(days=1), hard_people=team[:2])
        add_calls(
            session, "billing", team, day=WEEK - timedelta(days=6), hard_people=team[:1]
        )  # the week before
        add_checkins(
            session,
            "billing",
            {team[0]: "break", team[1]: "ok", team[2]: "talk", team[3]: None, team[4]: "ok"},
            day=WEEK + timedelta(days=2),
        )
        raws = dict(zip(team[:respondents], [13, 12, 20, 8, 16], strict=False))
        add_round(
            session,
            "billing",
            raws,
            invited=team,
            closes=WEEK + timedelta(days=4),
            burnout={p: 3 if i < 2 else 1 for i, p in enumerate(team[:respondents])},
        )


def png_text(png: bytes) -> str:
    """The text a PNG carries besides its pixels (tEXt, zTXt and iTXt chunks)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    found, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        if kind == b"tEXt":
            found.append(data.replace(b"\0", b": ").decode("latin-1"))
        elif kind == b"zTXt":
            key, _, packed = data.partition(b"\0")
            found.append(f"{key.decode('latin-1')}: {zlib.decompress(packed[1:]).decode('latin-1')}")
        elif kind == b"iTXt":
            found.append(data.decode("utf-8", "replace"))
        offset += 12 + length
    return "\n".join(found)


def cli_digest(harness: Harness, *args: str) -> Any:
    settings = harness.services.settings
    env = {
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_CONFIG": str(settings.config_path),
        "DATABASE_URL": settings.database_url,
        "BREATHER_MESSENGER": "sandbox",
    }
    return CliRunner().invoke(cli, ["digest", *args], env=env)


def test_a_full_week_shows_every_part_with_the_published_figures(digests: Harness) -> None:
    seed_full_week(digests)
    with session_scope(digests.services.engine) as session:
        team = digests.services.config.team("billing")
        digest = digests.services.digests.digest(session, team, NOW).to_json()
    assert digest["period"] == {"start": "2026-11-16", "end": "2026-11-22"}
    # "5 or more answered": never the count, so a team of five cannot read "all five answered".
    assert digest["suppressed"] is False and digest["respondents"] == {"at_least": 5}
    # WHO-5 raw 13, 12, 20, 8, 16 -> 52, 48, 80, 32, 64: mean 55.2, two of five at 50 or below.
    # Everyone asked answered: shown as the top band, as four of five would be.
    assert digest["metrics"] == {
        "who5_mean": 55.2,
        "who5_low_share": 0.4,
        "burnout_share": 0.4,
        "response_rate": {"at_least": 0.8},
    }
    # 20 ordinary calls plus the 5 hard calls behind the check-ins; a 24/7 shift makes 168 h per agent.
    assert digest["calls"] == {"calls": 25, "hard_share": 0.28, "abusive": 7, "calls_per_agent_hour": 0.0}
    # One of the five took a break, one asked to talk: shares of people, 20 % is in the bottom band.
    assert digest["checkins"] == {"sent": 5, "break_share": {"at_most": 0.2}, "talk_share": {"at_most": 0.2}}
    assert len(digest["trend"]) == 11
    assert digest["trend"][-1]["calls"]["hard_share"] == 0.05
    assert digest["trend"][0]["suppressed"] is True  # weeks with nobody are gaps, not zeros
    assert digest["trend"][0]["calls"] == {"suppressed": True, "reason": "fewer than 5 agents"}


def test_fewer_respondents_than_k_hides_wellbeing_but_not_call_load(digests: Harness) -> None:
    seed_full_week(digests, respondents=4)
    # The CLI runs on the real clock; --week picks the seeded week whatever today is.
    result = cli_digest(digests, "--team", "billing", "--format", "json", "--week", WEEK.isoformat())
    assert result.exit_code == 0, result.output
    digest = json.loads(result.output)
    assert digest["period"] == {"start": "2026-11-16", "end": "2026-11-22"}
    assert digest["suppressed"] is True and digest["reason"] == "fewer than 5 respondents"
    assert "respondents" not in digest and "metrics" not in digest
    assert digest["calls"]["calls"] == 25
    text = cli_digest(digests, "--team", "billing", "--week", (WEEK + timedelta(days=3)).isoformat()).output
    assert "not shown, fewer than 5 people answered" in text and "25 calls" in text


def test_png_chart_and_its_gaps(digests: Harness, tmp_path: Path) -> None:
    seed_full_week(digests)
    target = tmp_path / "chart.png"
    result = cli_digest(digests, "--team", "billing", "--format", "png", "--output", str(target))
    assert result.exit_code == 0 and target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli_digest(digests, "--team", "billing", "--format", "pdf").exit_code == 1
    assert cli_digest(digests, "--team", "sales").exit_code == 1


def test_week_option_refuses_a_bad_date_and_a_week_not_over(digests: Harness) -> None:
    bad = cli_digest(digests, "--team", "billing", "--week", "16/11/2026")
    assert bad.exit_code == 1 and "--week must be a date" in bad.output
    unfinished = cli_digest(digests, "--team", "billing", "--week", date.today().isoformat())
    assert unfinished.exit_code == 1 and "is not over yet" in unfinished.output
    assert "{" not in unfinished.output  # one readable line, no digest


def test_a_lead_gets_the_digest_and_the_chart_in_slack(digests: Harness) -> None:
    seed_full_week(digests)
    preload()  # as a server does at start: matplotlib's first import is not timed by Slack's ack
    reply = digests.command(user_id="U0RADU", command="/breather", text="digest")
    assert reply.status_code == 200
    body = reply.json()
    assert "Call load" in body["text"] or "Call load" in json.dumps(body["blocks"])
    assert "25 calls" in json.dumps(body["blocks"])
    digests.slack.wait_for("files.completeUploadExternal")
    upload = digests.slack.calls("files.getUploadURLExternal")[0]
    assert upload.params["filename"].startswith("breather-billing-2026-11-16")
    assert list(digests.slack.state.uploads.values())[0][:8] == b"\x89PNG\r\n\x1a\n"
    with session_scope(digests.services.engine) as session:
        reads = session.exec(select(DigestAccess)).all()
        assert [(r.reader, r.team_id, r.via) for r in reads] == [(LEAD, "billing", "slack command")]


@pytest.mark.parametrize(("user", "text"), [("U0ANA", "digest"), ("U0JO", "digest billing")])
def test_anyone_else_gets_a_polite_refusal_and_no_data(digests: Harness, user: str, text: str) -> None:
    seed_full_week(digests)
    reply = digests.command(user_id=user, command="/breather", text=text)
    assert reply.status_code == 200
    shown = json.dumps(reply.json())
    assert "calls" not in shown.lower().replace("breather", "")
    assert "only for that team's leads" in shown or "don't lead a team" in shown
    settled(digests.services)
    assert digests.slack.calls("files.getUploadURLExternal") == []


def test_an_admin_reads_any_teams_digest_and_someone_who_is_neither_is_refused(
    make_settings: MakeSettings, lead_slack: FakeSlack, tmp_path: Path
) -> None:
    lead_slack.add_user("U0OPS", "ops@example.com")  # an operator: in settings.admins, leads no team
    lead_slack.add_user("U0MIA", "mia@example.com")  # neither an admin nor anyone's lead
    with digest_app(make_settings, lead_slack, tmp_path, admins=["Ops@Example.com"]) as harness:
        seed_full_week(harness)
        billing = json.dumps(
            # Words and team ids are matched without regard to case (issue 20, item 6).
            harness.command(user_id="U0OPS", command="/breather", text="Digest Billing").json()
        )
        assert "25 calls" in billing and "Billing support" in billing
        nights = json.dumps(
            harness.command(user_id="U0OPS", command="/breather", text="digest nights").json()
        )
        assert "Night desk" in nights and "25 calls" not in nights
        which = harness.command(user_id="U0OPS", command="/breather", text="digest").json()
        assert "/breather digest billing|nights" in which["text"]  # every team, so it asks which
        for text in ("digest billing", "digest nights", "digest"):
            refused = json.dumps(harness.command(user_id="U0MIA", command="/breather", text=text).json())
            assert "only for that team's leads" in refused or "don't lead a team" in refused
            assert "calls" not in refused.lower().replace("breather", "")
        harness.slack.wait_for("files.completeUploadExternal", 2)
        settled(harness.services)
        uploads = harness.slack.calls("files.completeUploadExternal")
        assert {u.params["channel_id"] for u in uploads} == {"D0OPS"}  # the charts went to the admin only
        with session_scope(harness.services.engine) as session:
            reads = session.exec(select(DigestAccess)).all()
            assert sorted((r.reader, r.team_id) for r in reads) == [
                ("ops@example.com", "billing"),
                ("ops@example.com", "nights"),
            ]


def test_the_monday_message_goes_to_each_lead_once(digests: Harness) -> None:
    seed_full_week(digests)
    assert digests.services.digest_desk.weekly("billing") == 1
    digests.services.digest_desk.weekly("billing")  # a repeated job
    digests.slack.wait_for("files.completeUploadExternal")
    settled(digests.services)
    posts = digests.slack.calls("chat.postMessage")
    assert [p.params["channel"] for p in posts] == ["D0RADU"]
    assert "Call load" in json.dumps(posts[0].params["blocks"])
    assert len(digests.slack.calls("files.completeUploadExternal")) == 1
    jobs = {job.id for job in digests.services.jobs()}
    assert {"digest:billing", "digest:nights", "surge"} <= jobs


def test_a_lead_sees_the_digest_on_the_home_tab(digests: Harness) -> None:
    seed_full_week(digests)
    from handlers.sandbox.interactions import signed_headers

    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0TEST",
            "api_app_id": "A1",
            "event_id": "Ev9",
            "event": {"type": "app_home_opened", "user": "U0RADU", "tab": "home", "event_ts": "1.2"},
        }
    )
    digests.client.post(
        "/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body, "application/json")
    )
    home = digests.slack.wait_for("views.publish")[0].params
    assert home["user_id"] == "U0RADU"
    assert "Your teams (team-level only)" in json.dumps(home["view"]) and "25 calls" in json.dumps(
        home["view"]
    )


def test_a_surge_alerts_the_leads_without_names_once_per_cooldown(digests: Harness) -> None:
    team = people(digests)
    clock = digests.services.clock
    with session_scope(digests.services.engine) as session:
        add_calls(session, "billing", team, day=WEEK, per_person=8, hard_people=team[:1])  # a calm baseline
        recent = clock() - timedelta(minutes=20)
        from storage.models import Call

        for i, person in enumerate(team * 3):
            session.add(
                Call(
                    provider="generic",
                    call_id=f"surge-{i}",
                    team_id="billing",
                    pseudonym=person,
                    kid="k",
                    ended_at=recent,
                    hard=i < 8,
                    signals=["abuse"] if i < 8 else [],
                )
            )
    assert digests.services.digest_desk.surges() == 1
    alert = digests.slack.wait_for("chat.postMessage")[0]
    assert alert.params["channel"] == "D0RADU" and "hard" in alert.params["text"].lower()
    assert digests.services.digest_desk.surges() == 0  # cooldown
    settled(digests.services)


def test_no_surge_when_the_hard_calls_involve_fewer_than_k_people(digests: Harness) -> None:
    team = people(digests)
    clock = digests.services.clock
    with session_scope(digests.services.engine) as session:
        from storage.models import Call

        for i in range(15):
            session.add(
                Call(
                    provider="generic",
                    call_id=f"few-{i}",
                    team_id="billing",
                    pseudonym=team[i % 5],
                    kid="k",
                    ended_at=clock() - timedelta(minutes=5),
                    hard=i % 5 < 2,
                )
            )
    assert digests.services.digest_desk.surges() == 0


@pytest.mark.parametrize(("hard_people", "alerted"), [(4, False), (5, True), (6, True)])
def test_a_surge_is_alerted_only_when_k_or_more_people_had_the_hard_calls(
    digests: Harness, hard_people: int, alerted: bool
) -> None:
    """k-1, k and k+1 distinct agents behind the same share of hard calls (k = 5)."""
    from storage.models import Call

    now = digests.services.clock()
    callers = [f"surge-person-{n}" for n in range(6)]
    with session_scope(digests.services.engine) as session:
        for i in range(18):  # 18 calls from 6 people; one hard call each for the first few
            person = callers[i % 6]
            session.add(
                Call(
                    provider="generic",
                    call_id=f"k-{i}",
                    team_id="billing",
                    pseudonym=person,
                    kid="k",
                    ended_at=now - timedelta(minutes=10),
                    hard=i < hard_people,
                    signals=["abuse"] if i < hard_people else [],
                )
            )
    assert digests.services.digest_desk.surges() == (1 if alerted else 0)
    settled(digests.services)
    alerts = digests.slack.calls("chat.postMessage")
    assert [p.params["channel"] for p in alerts] == (["D0RADU"] if alerted else [])
    if alerted:
        assert "Hard calls are up in Billing support" in alerts[0].params["text"]


def week(
    start: str, who5: float | None = None, *, reason: Reason = Reason.NO_SURVEY, calls_hidden: bool = False
) -> Period:
    """A digest period as the chart reads it: shown wellbeing, none (no survey), or hidden."""
    hidden = Suppressed(Reason.FEW_AGENTS, 5)
    monday = date.fromisoformat(start)
    return Period(
        team="billing",
        start=monday,
        end=monday + timedelta(days=6),
        min_group=5,
        wellbeing=Suppressed(reason, 5) if who5 is None else Wellbeing(Headcount(5), who5_mean=Figure(who5)),
        calls=hidden if calls_hidden else Calls(calls=40, hard_share=0.1, abusive=0, calls_per_agent_hour=1),
        checkins=hidden,
        compliments=hidden,
    )


def chart_of(weeks: list[Period]) -> Digest:
    return Digest(latest=weeks[-1], trend=tuple(weeks[:-1]))


NO_SURVEY, TOO_FEW = Reason.NO_SURVEY, Reason.FEW_RESPONDENTS


def points(data: Any) -> list[float]:
    return [float(value) for value in data]


def drawn_words(figure: Any) -> set[str]:
    from matplotlib.text import Text

    return {t.get_text() for t in figure.findobj(Text)} - {""}


def test_survey_weeks_join_up_and_only_too_few_people_is_marked_as_hidden() -> None:
    """Fortnightly surveys: the weeks between are not gaps; a week with too few people is a cross."""
    from matplotlib import pyplot as plt

    weeks = [
        week("2026-09-07", 55.0),
        week("2026-09-14", reason=NO_SURVEY),
        week("2026-09-21", 61.0),
        week("2026-09-28", reason=NO_SURVEY),
        week("2026-10-05", reason=TOO_FEW, calls_hidden=True),
        week("2026-10-12", reason=NO_SURVEY),
        week("2026-10-19", 48.0),
    ]
    figure = trend_figure(chart_of(weeks), chart_text(catalogue("en"), team="Billing"))
    top, bottom = figure.axes
    lines = [(points(line.get_xdata()), points(line.get_ydata())) for line in top.get_lines()]
    plt.close(figure)
    assert ([0, 2], [55.0, 61.0]) in lines  # joined across the week without a survey
    assert ([6], [48.0]) in lines  # not joined across the hidden week
    crosses = [xs for xs, ys in lines if xs == [4]]
    assert crosses, "the hidden week is marked"
    words = drawn_words(figure)
    assert {"Too few people to show", "50 and below: low wellbeing", "Weeks a pulse survey closed"} <= words
    assert not any("gap" in word for word in words)


def test_the_chart_has_no_title_of_its_own_the_upload_carries_it() -> None:
    from matplotlib import pyplot as plt
    from matplotlib.text import Text

    text = chart_text(catalogue("en"), team="Billing")
    figure = trend_figure(Digest(week("2026-11-16", 60.0)), text)
    drawn = [t.get_text() for t in figure.findobj(Text) if t.get_text()]
    plt.close(figure)
    assert not any("last 12 weeks" in word for word in drawn)
    assert drawn.count("Wellbeing (WHO-5, 0-100)") == 1 and drawn.count("Hard calls (%)") == 1


def test_the_chart_reads_on_a_phone_labels_apart_and_large_enough() -> None:
    """The PNG is 800 px wide; a phone shows it about 360 px wide. Every word must stay at least
    10 px tall there, and no two week labels may touch."""
    import struct

    from matplotlib import pyplot as plt

    weeks = [week(f"2026-{9 + (d // 30):02d}-{1 + d % 30:02d}", 50.0 + d % 7) for d in range(0, 91, 7)]
    digest = chart_of(weeks)
    text = chart_text(catalogue("en"), team="Billing")
    png = trend_png(digest, text)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (800, 750)

    figure = trend_figure(digest, text)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    shrink = 360 / width
    from matplotlib.text import Text

    for item in figure.findobj(Text):
        if item.get_text() and item.get_visible():
            assert float(item.get_fontsize()) * figure.dpi / 72 * shrink >= 10, item.get_text()
    ticks = [t for t in figure.axes[1].get_xticklabels() if t.get_text()]
    assert 4 <= len(ticks) <= 7 and ticks[-1].get_text() == "25 Nov"  # the latest week, as English writes it
    boxes = [t.get_window_extent(renderer) for t in ticks]
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:], strict=False))
    plt.close(figure)


def test_an_empty_chart_says_so_instead_of_drawing_one_tick() -> None:
    from matplotlib import pyplot as plt

    empty = Digest(week("2026-11-23", reason=NO_SURVEY, calls_hidden=True))
    figure = trend_figure(empty, chart_text(catalogue("en"), team="Billing"))
    words = drawn_words(figure)
    plt.close(figure)
    assert words == {"Nothing to chart yet: weeks appear here as they complete."}
    assert trend_png(empty, chart_text(catalogue("en"), team="Billing"))[:4] == b"\x89PNG"


def test_every_word_on_the_chart_comes_from_the_catalogue() -> None:
    """A lead reading another language sees the chart in it: no English is drawn from code."""
    from matplotlib import pyplot as plt

    words = ChartText(
        who5="Bunăstare",
        who5_axis="Axa WHO",
        hard="Apeluri grele",
        hard_axis="Axa grele",
        weeks="Săptămâni",
        reference="Referință",
        survey_weeks="Cu chestionar",
        hidden="Prea puțini",
        empty="Gol",
        day=lambda day: "16 noiembrie",
    )
    weeks = [week("2026-11-09", reason=TOO_FEW, calls_hidden=True), week("2026-11-16", 60.0)]
    figure = trend_figure(chart_of(weeks), words)
    drawn = drawn_words(figure)
    plt.close(figure)
    texts = {value for value in vars(words).values() if isinstance(value, str)} | {"16 noiembrie"}
    assert texts - {"Gol"} <= drawn
    assert not {t for t in drawn if any(c.isalpha() for c in t)} - texts
    english = chart_text(catalogue("en"), team="Billing support")
    assert english.who5 == "Wellbeing (WHO-5, 0-100)"


def test_the_hard_wall_no_manager_output_names_anyone_or_shows_a_small_group(digests: Harness) -> None:
    """Seed everything a manager must never see, then read every manager-facing output."""
    seed_full_week(digests)
    services = digests.services
    team = [a for a in services.roster.agents() if a.team.id == "billing"]
    with session_scope(services.engine) as session:
        session.add(AgentPrefs(pseudonym=team[0].pseudonym, kid="k", paused=True))
        session.add(AgentPrefs(pseudonym=team[1].pseudonym, kid="k", surveys_opted_out=True))
        add_calls(session, "nights", people(digests, "nights"), day=WEEK + timedelta(days=1), hard_people=[])
        # Compliments for everyone: two shared (their words go to the roll-up), the rest kept
        # private. A shared quote is the customer's words, posted with the agent's consent; these
        # name nobody, so any name in the roll-up would have come from Breather.
        for i, agent in enumerate([*team, team[0]]):
            session.add(
                Compliment(
                    id=f"hw-cmp{i}",
                    source="zendesk",
                    source_key=f"hw{i}",
                    team_id="billing",
                    pseudonym=agent.pseudonym,
                    kid="k",
                    text="[customer] says the fix worked first time" if i < 2 else f"kept private {i}",
                    status=ComplimentStatus.SHARED if i < 2 else ComplimentStatus.PRIVATE,
                    received_at=at(WEEK + timedelta(days=2)),
                    decided_at=at(WEEK + timedelta(days=2), 12),
                )
            )
    outputs: list[str] = []
    week = ("--week", WEEK.isoformat())  # the CLI runs on the real clock
    outputs.append(cli_digest(digests, "--team", "billing", *week).output)
    outputs.append(cli_digest(digests, "--team", "billing", "--format", "json", *week).output)
    outputs.append(cli_digest(digests, "--team", "nights", "--format", "json", *week).output)
    png = cli_digest(digests, "--team", "billing", "--format", "png", *week)
    assert png.exit_code == 0, png.output
    chart = Path("breather-billing-2026-11-16.png")  # named for the seeded week, in the working dir
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    embedded = png_text(chart.read_bytes())
    assert "Matplotlib" in embedded  # the only text a chart carries: the drawing library's name
    outputs.append(png.output + embedded)
    outputs.append(json.dumps(digests.command(user_id="U0RADU", command="/breather", text="digest").json()))
    services.digest_desk.weekly("billing")
    services.digest_desk.weekly("nights")
    outputs.append(json.dumps(services.digest_desk.home_parts(LEAD), default=str))
    assert services.compliments.post_rollup("billing")  # the team channel's weekly roll-up
    with session_scope(services.engine) as session:
        add_calls(session, "billing", [a.pseudonym for a in team] * 2, day=WEEK, per_person=1)
        from storage.models import Call

        for i in range(15):
            session.add(
                Call(
                    provider="generic",
                    call_id=f"hw-{i}",
                    team_id="billing",
                    pseudonym=team[i % 5].pseudonym,
                    kid="k",
                    ended_at=services.clock() - timedelta(minutes=5),
                    hard=True,
                )
            )
    services.digest_desk.surges()
    settled(services)
    for call in digests.slack.calls():
        if call.method in ("chat.postMessage", "views.publish", "files.completeUploadExternal"):
            outputs.append(json.dumps(call.params))
    uploads = list(digests.slack.state.uploads.values())
    assert len(uploads) == 3  # the charts: after /breather digest, and with both teams' Monday DMs
    outputs.extend(png_text(upload) for upload in uploads)
    rollup = [c for c in digests.slack.calls("chat.postMessage") if c.params["channel"] == "C0BILLING"]
    assert len(rollup) == 1
    assert "Customers thanked this team 6 times last week." in json.dumps(rollup[0].params)
    assert "the fix worked first time" in json.dumps(rollup[0].params)
    everything = "\n".join(outputs)
    assert "kept private" not in everything  # words an agent did not share reach nobody
    for agent in services.roster.agents():
        for identifier in (agent.email, agent.name, agent.id, agent.pseudonym, agent.config.slack_user_id):
            if identifier:
                assert identifier not in everything, f"{identifier!r} reached a manager"
        assert agent.email.split("@")[0] not in everything.lower()
    billing = json.loads(outputs[1])
    # the seeded week was read
    assert billing["respondents"] == {"at_least": 5} and billing["calls"]["calls"] == 25
    assert billing["compliments"] == 6  # the same figure as the roll-up's
    nights = json.loads(outputs[2])
    assert nights["calls"]["suppressed"] is True  # one person on nights: never shown
    with session_scope(services.engine) as session:
        assert all(len(release.contributors) >= 5 for release in session.exec(select(DigestRelease)))


@pytest.mark.parametrize(("praised", "shown"), [(4, False), (5, True)])
def test_compliments_received_are_counted_for_the_team_only_from_k_people(
    digests: Harness, praised: int, shown: bool
) -> None:
    from storage.models import Compliment

    team = people(digests)
    with session_scope(digests.services.engine) as session:
        for i, person in enumerate(team[:praised] * 2):
            session.add(
                Compliment(
                    id=f"cmp{i}",
                    source="zendesk",
                    source_key=f"t{i}",
                    team_id="billing",
                    pseudonym=person,
                    kid="k",
                    text="[customer] was lovely",
                    received_at=at(WEEK + timedelta(days=2)),
                )
            )
    with session_scope(digests.services.engine) as session:
        billing = digests.services.config.team("billing")
        digest = digests.services.digests.digest(session, billing, NOW).to_json()
    if shown:
        assert digest["compliments"] == 10
    else:
        assert digest["compliments"] == {"suppressed": True, "reason": "fewer than 5 agents"}
