"""Team aggregates per week, computed in SQL, with the set of people behind each figure.

Rows come back grouped by (week, person), so a year of a large centre's calls is reduced in
the database; Python only adds up a few hundred rows per team. During a pseudonym key rotation
one person's rows may carry two pseudonyms: `people.canonical` makes them one person again.
`exclude` holds the people who read the team's figures (its leads, when they are on the roster
too): what they did never counts, neither towards a figure nor towards the anonymity threshold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, String, and_, case, cast, func, select
from sqlmodel import Session, col

from bot.digests.periods import Week
from bot.pseudonyms import People
from storage.models import Call, Checkin, Compliment, SurveyAnswer, SurveyInvitation, SurveyRound
from storage.models.compliments import FROM_A_LEAD


@dataclass
class CallWeek:
    people: set[str] = field(default_factory=set)
    calls: int = 0
    hard: int = 0
    abusive: int = 0
    queues: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    queue_calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    queue_hard: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class CheckinWeek:
    people: set[str] = field(default_factory=set)
    sent: int = 0
    breaks: int = 0
    talks: int = 0
    took_break: set[str] = field(default_factory=set)  # people who answered one with a break
    asked_to_talk: set[str] = field(default_factory=set)


@dataclass
class WellbeingWeek:
    invited: set[str] = field(default_factory=set)
    respondents: set[str] = field(default_factory=set)
    scores: dict[str, list[tuple[str, float, bool]]] = field(default_factory=lambda: defaultdict(list))


def _rows(session: Session, statement: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(statement).all()]


def _person(people: People | None) -> Callable[[str], str]:
    return people.canonical if people is not None else str


def _bucket(column: Any, weeks: Sequence[Week]) -> Any:
    """Which week a timestamp falls in, as 0..n-1, using exact local boundaries (DST-proof)."""
    return case(*[(column < week.ends, index) for index, week in enumerate(weeks)], else_=len(weeks))


def call_weeks(
    session: Session,
    team_id: str,
    weeks: Sequence[Week],
    people: People | None = None,
    exclude: frozenset[str] = frozenset(),
) -> list[CallWeek]:
    bucket = _bucket(col(Call.ended_at), weeks).label("bucket")
    abusive = case((cast(col(Call.signals), String).like('%"abuse"%'), 1), else_=0)
    statement = (
        select(
            bucket,
            col(Call.pseudonym),
            col(Call.queue),
            func.count(),
            func.sum(cast(col(Call.hard), Integer)),
            func.sum(abusive),
        )
        .where(
            col(Call.team_id) == team_id,
            col(Call.ended_at) >= weeks[0].begins,
            col(Call.ended_at) < weeks[-1].ends,
        )
        .group_by(bucket, col(Call.pseudonym), col(Call.queue))
    )
    result = [CallWeek() for _ in weeks]
    person = _person(people)
    for index, found, queue, calls, hard, abuse in _rows(session, statement):
        pseudonym = person(found)
        if pseudonym in exclude:
            continue
        week = result[int(index)]
        week.people.add(pseudonym)
        week.calls += int(calls)
        week.hard += int(hard or 0)
        week.abusive += int(abuse or 0)
        name = queue or "-"
        week.queues[name].add(pseudonym)
        week.queue_calls[name] += int(calls)
        week.queue_hard[name] += int(hard or 0)
    return result


def checkin_weeks(
    session: Session,
    team_id: str,
    weeks: Sequence[Week],
    people: People | None = None,
    exclude: frozenset[str] = frozenset(),
) -> list[CheckinWeek]:
    bucket = _bucket(col(Checkin.created_at), weeks).label("bucket")
    statement = (
        select(
            bucket,
            col(Checkin.pseudonym),
            func.count(),
            func.sum(case((col(Checkin.answer) == "break", 1), else_=0)),
            func.sum(case((col(Checkin.answer) == "talk", 1), else_=0)),
        )
        .where(
            col(Checkin.team_id) == team_id,
            col(Checkin.created_at) >= weeks[0].begins,
            col(Checkin.created_at) < weeks[-1].ends,
        )
        .group_by(bucket, col(Checkin.pseudonym))
    )
    result = [CheckinWeek() for _ in weeks]
    person = _person(people)
    for index, found, sent, breaks, talks in _rows(session, statement):
        pseudonym = person(found)
        if pseudonym in exclude:
            continue
        week = result[int(index)]
        week.people.add(pseudonym)
        week.sent += int(sent)
        week.breaks += int(breaks or 0)
        week.talks += int(talks or 0)
        if breaks:
            week.took_break.add(pseudonym)
        if talks:
            week.asked_to_talk.add(pseudonym)
    return result


def wellbeing_weeks(
    session: Session,
    team_id: str,
    weeks: Sequence[Week],
    people: People | None = None,
    exclude: frozenset[str] = frozenset(),
) -> list[WellbeingWeek]:
    """Survey results by the week their round closed: a round is released only once closed."""
    in_range = and_(
        col(SurveyRound.team_id) == team_id,
        col(SurveyRound.closes_at) >= weeks[0].begins,
        col(SurveyRound.closes_at) < weeks[-1].ends,
    )
    bucket = _bucket(col(SurveyRound.closes_at), weeks).label("bucket")
    result = [WellbeingWeek() for _ in weeks]
    answers = (
        select(
            bucket,
            col(SurveyAnswer.pseudonym),
            col(SurveyAnswer.instrument),
            col(SurveyAnswer.score),
            col(SurveyAnswer.flagged),
        )
        .join(SurveyRound, col(SurveyRound.id) == col(SurveyAnswer.round_id))
        .where(in_range)
    )
    person = _person(people)
    for index, found, instrument, score, flagged in _rows(session, answers):
        pseudonym = person(found)
        if pseudonym in exclude:
            continue
        week = result[int(index)]
        week.respondents.add(pseudonym)
        week.scores[instrument].append((pseudonym, float(score), bool(flagged)))
    invited = (
        select(bucket, col(SurveyInvitation.pseudonym))
        .join(SurveyRound, col(SurveyRound.id) == col(SurveyInvitation.round_id))
        .where(in_range, col(SurveyInvitation.sent_at).is_not(None))
    )
    for index, found in _rows(session, invited):
        if person(found) not in exclude:
            result[int(index)].invited.add(person(found))
    return result


def compliment_weeks(
    session: Session,
    team_id: str,
    weeks: Sequence[Week],
    people: People | None = None,
    exclude: frozenset[str] = frozenset(),
) -> list[tuple[set[str], int]]:
    """(people complimented, compliments received) per week: every compliment counts, shared or
    kept private, because the team received it either way (the count never says who)."""
    bucket = _bucket(col(Compliment.received_at), weeks).label("bucket")
    statement = (
        select(bucket, col(Compliment.pseudonym), func.count())
        .where(
            col(Compliment.team_id) == team_id,
            col(Compliment.source) != FROM_A_LEAD,  # what a lead passed on never counts
            col(Compliment.received_at) >= weeks[0].begins,
            col(Compliment.received_at) < weeks[-1].ends,
        )
        .group_by(bucket, col(Compliment.pseudonym))
    )
    result: list[tuple[set[str], int]] = [(set(), 0) for _ in weeks]
    person = _person(people)
    for index, found, count in _rows(session, statement):
        if person(found) in exclude:
            continue
        praised, total = result[int(index)]
        praised.add(person(found))
        result[int(index)] = (praised, total + int(count))
    return result
