"""Seeding a database with a team's calls, check-ins and survey answers for digest tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.surveys.instruments import WHO5
from storage.models import Call, Checkin, SurveyAnswer, SurveyInvitation, SurveyRound

BUCHAREST = ZoneInfo("Europe/Bucharest")
# Wednesday 25 November 2026, 10:00 in Bucharest: the last complete week is 16-22 November.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=BUCHAREST).astimezone(UTC)
WEEK = date(2026, 11, 16)


def at(day: date, hour: int = 11) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BUCHAREST).astimezone(UTC)


def add_calls(
    session: Session,
    team: str,
    people: Sequence[str],
    *,
    day: date,
    per_person: int = 4,
    hard_people: Sequence[str] = (),
    abusive: bool = True,
    queue: str | None = "billing",
) -> None:
    for person in people:
        for n in range(per_person):
            hard = person in hard_people and n == 0
            session.add(
                Call(
                    provider="generic",
                    call_id=uuid.uuid4().hex,
                    team_id=team,
                    pseudonym=person,
                    kid="k",
                    ended_at=at(day, 9 + n),
                    duration_s=240,
                    hard=hard,
                    signals=["abuse"] if hard and abusive else (["hangup", "sentiment"] if hard else []),
                    queue=queue,
                )
            )


def add_checkins(session: Session, team: str, answers: dict[str, str | None], *, day: date) -> None:
    for person, answer in answers.items():
        call = Call(
            provider="generic",
            call_id=uuid.uuid4().hex,
            team_id=team,
            pseudonym=person,
            kid="k",
            ended_at=at(day),
            hard=True,
            signals=["abuse"],
        )
        session.add(call)
        session.flush()
        session.add(
            Checkin(
                id=uuid.uuid4().hex,
                call_id=call.id or 0,
                team_id=team,
                pseudonym=person,
                kid="k",
                reasons=["abuse"],
                created_at=at(day),
                answer=answer,
            )
        )


def add_round(
    session: Session,
    team: str,
    who5_raw: dict[str, int],
    *,
    invited: Sequence[str],
    closes: date,
    burnout: dict[str, int] | None = None,
) -> None:
    """A closed round: `who5_raw` maps person -> raw WHO-5 sum (0-25), scored as published."""
    round_id = uuid.uuid4().hex
    session.add(
        SurveyRound(
            id=round_id,
            team_id=team,
            period_start=closes - timedelta(days=3),
            instruments=["who5", "burnout_single"],
            opened_at=at(closes) - timedelta(days=3),
            closes_at=at(closes),
            invited=len(invited),
            responded=len(who5_raw),
        )
    )
    session.flush()  # no relationship() is declared, so make the round exist before its rows
    for person in invited:
        session.add(
            SurveyInvitation(
                id=uuid.uuid4().hex,
                round_id=round_id,
                pseudonym=person,
                kid="k",
                state="answered" if person in who5_raw else "sent",
                send_after=at(closes) - timedelta(days=3),
                sent_at=at(closes) - timedelta(days=3),
            )
        )
    for person, raw in who5_raw.items():
        items = {f"who5_{n}": min(5, max(0, raw - 5 * (n - 1))) for n in range(1, 6)}
        score = WHO5.score(items)
        assert score is not None
        session.add(
            SurveyAnswer(
                round_id=round_id,
                team_id=team,
                pseudonym=person,
                kid="k",
                instrument="who5",
                instrument_version="1",
                answers=items,
                score=score.value,
                flagged=score.flag,
                submitted_at=at(closes) - timedelta(days=1),
            )
        )
        option = (burnout or {}).get(person)
        if option is not None:
            session.add(
                SurveyAnswer(
                    round_id=round_id,
                    team_id=team,
                    pseudonym=person,
                    kid="k",
                    instrument="burnout_single",
                    instrument_version="1",
                    answers={"burnout_single_1": option},
                    score=float(option),
                    flagged=option >= 3,
                    submitted_at=at(closes) - timedelta(days=1),
                )
            )
